package kernlink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// netnsDir is where iproute2 keeps its named namespaces.
const netnsDir = "/run/netns"

// namespace is a named network namespace that this process created.
type namespace struct {
	name string
	fd   *os.File // held open so that entering it needs no path lookup

	once sync.Once
	err  error
}

// namePrefix starts the name of every namespace a run creates; the pid
// after it tells which run, so that one killed before its Close can be
// cleaned up by the next.
const namePrefix = "tandem-"

func newNamespace(ctx context.Context, role string) (*namespace, error) {
	name := namePrefix + strconv.Itoa(os.Getpid()) + "-" + role
	if err := run(ctx, "ip", []string{"netns", "add", name}, ""); err != nil {
		return nil, fmt.Errorf("%w (the kernel shaper needs root, or CAP_SYS_ADMIN and CAP_NET_ADMIN)", err)
	}
	fd, err := os.Open(netnsDir + "/" + name)
	if err != nil {
		run(context.Background(), "ip", []string{"netns", "del", name}, "")
		return nil, fmt.Errorf("kernlink: %w", err)
	}
	return &namespace{name: name, fd: fd}, nil
}

// batch runs tool (ip or tc) on lines in the namespace, one process for
// all of them.
func (ns *namespace) batch(ctx context.Context, tool string, lines []string) error {
	return runBatch(ctx, ns.name, tool, lines)
}

func runBatch(ctx context.Context, netns, tool string, lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	args := []string{"-batch", "-"}
	if netns != "" {
		args = append([]string{"-n", netns}, args...)
	}
	return run(ctx, tool, args, strings.Join(lines, "\n")+"\n")
}

// run runs an iproute2 command and makes its failure an error that says
// what was run and what the tool said.
func run(ctx context.Context, tool string, args []string, stdin string) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		said := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(said, '\n'); i >= 0 {
			said = said[:i]
		}
		if said == "" {
			said = err.Error()
		}
		return fmt.Errorf("kernlink: %s %s: %s", tool, strings.Join(args, " "), said)
	}
	return nil
}

// do runs fn on a thread that has entered the namespace, so that the
// sockets fn opens belong to it; a socket keeps its namespace for life,
// whichever thread uses it later. The thread goes back to its own
// namespace afterwards; if it cannot, it stays locked and the runtime
// discards it when the goroutine ends, so that no other goroutine ever
// runs in the wrong namespace.
func (ns *namespace) do(fn func() error) error {
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer own.Close()
	if err := unix.Setns(int(ns.fd.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering %s: %w", ns.name, err)
	}
	err = fn()
	if unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil {
		runtime.UnlockOSThread()
	}
	return err
}

// remove deletes the namespace, and with it every interface in it.
func (ns *namespace) remove() error {
	ns.once.Do(func() {
		ns.fd.Close()
		ns.err = run(context.Background(), "ip", []string{"netns", "del", ns.name}, "")
	})
	return ns.err
}

// supported says whether this machine has the tools the fabric needs.
func supported() error {
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("kernlink: %s not found: the kernel shaper needs iproute2 (Debian: apt-get install iproute2)", tool)
		}
	}
	return nil
}

// removeStale deletes the namespaces of runs whose process is gone: a run
// killed before its Close (SIGKILL, a crash) leaves them behind.
func removeStale(ctx context.Context) {
	for _, name := range staleNamespaces() {
		run(ctx, "ip", []string{"netns", "del", name}, "")
	}
}

func staleNamespaces() []string {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return nil
	}
	var stale []string
	for _, e := range entries {
		pid, ok := ownerPID(e.Name())
		if !ok || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); errors.Is(err, os.ErrNotExist) {
			stale = append(stale, e.Name())
		}
	}
	return stale
}

// ownerPID is the pid in a namespace name this package made.
func ownerPID(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, namePrefix)
	if !ok {
		return 0, false
	}
	pidText, role, ok := strings.Cut(rest, "-")
	if !ok || (role != "edge" && role != "cloud") {
		return 0, false
	}
	pid, err := strconv.Atoi(pidText)
	return pid, err == nil && pid > 0
}

// Namespaces lists the namespaces this process's fabrics hold now, for
// checks that a run left nothing behind.
func Namespaces() []string {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		return nil
	}
	var mine []string
	for _, e := range entries {
		if pid, ok := ownerPID(e.Name()); ok && pid == os.Getpid() {
			mine = append(mine, e.Name())
		}
	}
	return mine
}
