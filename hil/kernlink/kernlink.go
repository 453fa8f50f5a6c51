// Package kernlink shapes the links of a hardware-in-the-loop run in the
// kernel instead of in process. The devices' side and the cloud's side each
// get a network namespace of their own; every device has a veth pair
// between the two, whose device end rate-limits the uplink and whose cloud
// end the downlink with tc's token bucket filter (tbf). A device's bytes
// then queue and leave at its link's rate in the kernel, packet by packet,
// as on a real link; propagation delay stays with the caller, because the
// netem qdisc that would add it is not on every kernel.
//
// Everything a Fabric creates lives in its two namespaces, so nothing
// touches the host's own network and removing the namespaces removes all
// of it. Close does; Create first removes what a run that was killed left
// behind.
package kernlink

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
)

// Link is one device's link: its rates each way, in megabits (10^6 bits)
// per second.
type Link struct {
	UpMbps, DownMbps float64
}

// MaxLinks bounds a fabric: each link takes a /30 of 10.213.0.0/16.
const MaxLinks = 1 << 14

// Fabric is the namespaces and veth pairs of one run. Its methods may be
// called from several goroutines.
type Fabric struct {
	edge, cloud *namespace
	links       []Link
}

// Create builds a fabric of one veth pair per link. The caller must Close
// it, also when the run fails. It needs the rights to create network
// namespaces (root, or CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2's ip
// and tc.
func Create(ctx context.Context, links []Link) (*Fabric, error) {
	if len(links) == 0 {
		return nil, errors.New("kernlink: no links")
	}
	if len(links) > MaxLinks {
		return nil, fmt.Errorf("kernlink: %d links; at most %d", len(links), MaxLinks)
	}
	for i, l := range links {
		if !validRate(l.UpMbps) || !validRate(l.DownMbps) {
			return nil, fmt.Errorf("kernlink: link %d: rates %g and %g Mbps; want positive and finite", i, l.UpMbps, l.DownMbps)
		}
	}
	if err := supported(); err != nil {
		return nil, err
	}
	removeStale(ctx)
	f := &Fabric{links: links}
	var err error
	if f.edge, err = newNamespace(ctx, "edge"); err != nil {
		return nil, err
	}
	if f.cloud, err = newNamespace(ctx, "cloud"); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.wire(ctx); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func validRate(mbps float64) bool { return mbps > 0 && !math.IsInf(mbps, 0) }

// wire adds the veth pairs, their addresses and their qdiscs: one batch of
// ip commands and one of tc commands per namespace, so that a fleet of
// many devices takes a few processes rather than thousands.
func (f *Fabric) wire(ctx context.Context) error {
	var pairs, edgeIP, cloudIP, edgeTC, cloudTC []string
	edgeIP = append(edgeIP, "link set lo up")
	cloudIP = append(cloudIP, "link set lo up")
	for i, l := range f.links {
		name := vethName(i)
		// Created from the host's namespace straight into the two, so
		// that no name is ever taken in the host's.
		pairs = append(pairs, fmt.Sprintf("link add %s netns %s type veth peer name %s netns %s", name, f.edge.name, name, f.cloud.name))
		edgeIP = append(edgeIP, fmt.Sprintf("addr add %s/30 dev %s", edgeAddr(i), name), "link set "+name+" up")
		cloudIP = append(cloudIP, fmt.Sprintf("addr add %s/30 dev %s", cloudAddr(i), name), "link set "+name+" up")
		edgeTC = append(edgeTC, tbf(name, l.UpMbps))
		cloudTC = append(cloudTC, tbf(name, l.DownMbps))
	}
	if err := runBatch(ctx, "", "ip", pairs); err != nil {
		return err
	}
	for _, step := range []struct {
		ns    *namespace
		tool  string
		lines []string
	}{{f.edge, "ip", edgeIP}, {f.cloud, "ip", cloudIP}, {f.edge, "tc", edgeTC}, {f.cloud, "tc", cloudTC}} {
		if err := step.ns.batch(ctx, step.tool, step.lines); err != nil {
			return err
		}
	}
	return nil
}

// tbf is the tc command that limits what leaves dev to mbps. The bucket
// holds one full-size frame, so a burst leaves at the rate after its first
// packet, and the queue is long enough never to drop what a run sends: the
// simulator's links queue without bound too.
func tbf(dev string, mbps float64) string {
	bits := strconv.FormatFloat(math.Round(mbps*1e6), 'f', 0, 64)
	return fmt.Sprintf("qdisc add dev %s root tbf rate %sbit burst %d limit %d", dev, bits, burstBytes, limitBytes)
}

const (
	burstBytes = 1600     // one Ethernet frame of 1514 bytes and some slack
	limitBytes = 64 << 20 // the tbf queue's bound
)

// vethName is link i's interface name, the same in both namespaces.
func vethName(i int) string { return "tl" + strconv.Itoa(i) }

// edgeAddr and cloudAddr are link i's two ends: the first two hosts of the
// i-th /30 of 10.213.0.0/16.
func edgeAddr(i int) netip.Addr  { return subnetHost(i, 1) }
func cloudAddr(i int) netip.Addr { return subnetHost(i, 2) }

func subnetHost(i, host int) netip.Addr {
	n := 4*i + host
	return netip.AddrFrom4([4]byte{10, 213, byte(n >> 8), byte(n)})
}

// Links is how many links the fabric has.
func (f *Fabric) Links() int { return len(f.links) }

// Listen listens on TCP port 0 of every cloud end: the server's socket,
// reached from link i at CloudAddr(i, port).
func (f *Fabric) Listen() (net.Listener, error) {
	var ln net.Listener
	err := f.cloud.do(func() error {
		var err error
		ln, err = net.Listen("tcp4", "0.0.0.0:0")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("kernlink: listening in %s: %w", f.cloud.name, err)
	}
	return ln, nil
}

// CloudAddr is the address at which link i's device reaches the cloud's
// port.
func (f *Fabric) CloudAddr(i, port int) string {
	return netip.AddrPortFrom(cloudAddr(i), uint16(port)).String()
}

// DialContext returns a dial function for link i's device: whatever
// address it is asked for, it connects from the devices' namespace to
// CloudAddr(i, port), so the connection's bytes cross link i. It is what
// an http.Transport of that device dials with.
func (f *Fabric) DialContext(i, port int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	to := f.CloudAddr(i, port)
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		var c net.Conn
		err := f.edge.do(func() error {
			var d net.Dialer
			var err error
			c, err = d.DialContext(ctx, "tcp4", to)
			return err
		})
		return c, err
	}
}

// Close removes the fabric's namespaces and with them its veth pairs and
// qdiscs. It may be called more than once.
func (f *Fabric) Close() error {
	var errs []error
	for _, ns := range []*namespace{f.edge, f.cloud} {
		if ns != nil {
			errs = append(errs, ns.remove())
		}
	}
	return errors.Join(errs...)
}
