// Command tandem predicts, trains and measures edge-cloud cooperative DNN
// inference. Each subcommand only parses its flags and calls the packages that
// do the work.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tandem: %v\n", err)
	}
	return cli.ExitCode(err)
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "tandem",
		Short: "Edge-cloud cooperative DNN inference: build, offload, simulate, measure",
		Long: `tandem splits DNN inference between edge devices and the cloud.

It trains a heavyweight model, compresses it into a lightweight edge model,
learns which inputs the edge should hand to the cloud, predicts what a
deployment will do with a discrete-event simulator driven by profiled layer
latencies, and checks that prediction on real hardware with the same scenario.

Start with:
  tandem sim                      predict the built-in default scenario
  tandem scenario list            the built-in scenarios
  tandem scenario show builtin:default > mine.yaml`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return cli.BadInputf("%s: %v (see '%s --help')", c.CommandPath(), err, c.CommandPath())
	})
	root.Args = cobra.ArbitraryArgs
	root.RunE = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			msg := fmt.Sprintf("unknown command %q", args[0])
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf(" (did you mean %q?)", s[0])
			}
			return cli.BadInputf("%s; see 'tandem --help'", msg)
		}
		return c.Help()
	}
	for _, c := range commands() {
		root.AddCommand(c)
	}
	return root
}
