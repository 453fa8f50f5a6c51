package offload

import (
	"testing"
)

// FuzzDecodeOffloader feeds arbitrary bytes to the offloader decoder: it
// must return an offloader that passes its own check, and that the learned
// policy can run, or an error; never panic.
func FuzzDecodeOffloader(f *testing.F) {
	o, err := Train(synthetic(60, 1), TrainConfig{Hidden: 2, Epochs: 3, Folds: 2, Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	good, err := o.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"format":"tandem-offloader/1","classes":2,"inputs":["a","b","c","d","e"],"mean":[0,0,0,0,0],"std":[1,1,1,1,1],"w1":[[1,1,1,1,1]],"b1":[0],"w2":[1],"b2":0,"threshold":0.5}`))
	f.Add([]byte(`{"classes": 1e400}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		o, err := DecodeOffloader("fuzz.json", in)
		if err != nil {
			return
		}
		if err := o.Check(); err != nil {
			t.Fatalf("decoded an offloader that fails its check: %v", err)
		}
		if o.Classes > 1000 {
			return // a valid but huge model: not worth the fuzzer's time
		}
		logits := make([]float32, o.Classes)
		logits[0] = 1
		s := NewSample(logits, true, true)
		if sc := o.Score(&s); !(sc >= 0 && sc <= 1) {
			t.Fatalf("score %v outside [0, 1]", sc)
		}
		NewLearned(o).Decide(&s, &Context{})
	})
}
