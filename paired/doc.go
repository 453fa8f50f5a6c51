// Package paired compares the accuracy of two runs of the same requests,
// request by request: how many each got right where the other was wrong,
// and how likely a split that uneven is when the two are equally accurate
// (the exact McNemar test). Two policies on one scenario and seed, or a
// simulation and its hardware-in-the-loop run, answer the same inputs, so
// their difference is measured on the few inputs where they disagree, not
// on two noisy accuracies.
//
// A run replays held-out samples, drawn with replacement, so one sample can
// be many requests, and a policy that decides from the sample alone answers
// them all alike: counted by request, one disagreement on such a sample is
// several, and the test is more sure than the inputs warrant. So the
// package counts both ways: by request, and by distinct sample, where a
// sample counts for the run that got more of its requests right (a sign
// test, which is McNemar's when each sample is one request). With several
// applications, samples of different bundles share numbers and are counted
// as one: coarser units, which keep the test valid and make it no surer.
//
// A p-value says whether the runs differ, not by how much. The package
// also gives the difference in accuracy with a 95% interval whose spread
// counts each sample's requests as one unit, which is what a claim such as
// "B is within 0.2 points of A" rests on.
package paired
