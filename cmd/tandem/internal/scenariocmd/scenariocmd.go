// Package scenariocmd is `tandem scenario`: the built-in scenarios, and any
// scenario shown with every default filled in or checked.
package scenariocmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/deploy"
	"github.com/tandem-edge/tandem/scenarios"
)

// NewCmd builds `tandem scenario` and its subcommands.
func NewCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenario",
		Short: "List, show and check scenarios",
		Long: `A scenario is the YAML file that both 'tandem sim' and 'tandem hil run' read:
the fleet, its workload, links, cloud pool and offloading policy.

Start your own from a built-in, which 'show' prints with every default spelled out:
  tandem scenario show builtin:default > mine.yaml`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newList(), newShow(), newCheck(), newNew())
	return cmd
}

func newList() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios",
		Args:  cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return list(cmd.OutOrStdout())
		},
	}
}

func list(w io.Writer) error {
	t := tablewriter.NewWriter(w)
	t.Header("scenario", "description")
	for _, name := range scenarios.Builtins() {
		sc, err := scenarios.Load("builtin:" + name)
		desc := ""
		if err != nil {
			desc = "error: " + err.Error()
		} else {
			desc = summary(sc.Description)
		}
		if err := t.Append([]string{"builtin:" + name, desc}); err != nil {
			return err
		}
	}
	return t.Render()
}

// summary keeps a table row to one terminal line: the description's first
// sentence, cut at a word before 72 characters.
func summary(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	const width = 72
	if len(s) <= width {
		return s
	}
	cut := strings.LastIndex(s[:width], " ")
	if cut < 0 {
		cut = width
	}
	return strings.TrimRight(s[:cut], ",;:") + " …"
}

func newShow() *cobra.Command {
	return &cobra.Command{
		Use:   "show SCENARIO",
		Short: "Print a scenario as YAML with every default filled in",
		Example: `  tandem scenario show builtin:default > mine.yaml
  tandem scenario show mine.yaml`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := scenarios.Load(args[0])
			if err != nil {
				return cli.BadInput(err)
			}
			b, err := scenarios.Marshal(sc)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
}

func newCheck() *cobra.Command {
	return &cobra.Command{
		Use:   "check SCENARIO...",
		Short: "Check scenarios and everything they name (bundle, profiles, traces)",
		Long: `Check each scenario file as 'tandem sim' would before running it: the YAML
itself, then the bundle, the device profiles (which must hold measurements of the
bundle's models), the link trace, the arrival trace and the offloader. Prints "ok" per file, or
the first problem as FILE:LINE:COLUMN: KEY: what was expected; exit status 2 if any
scenario is bad.`,
		Args: cli.RangeArgs(1, 1<<20),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, ref := range args {
				sc, err := scenarios.Load(ref)
				var in *scenarios.Inputs
				if err == nil {
					in, err = scenarios.Resolve(sc)
				}
				if err == nil {
					// What every driver builds from the inputs: the
					// offloader's file is decoded here.
					_, err = deploy.SetupFor(in)
				}
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%v\n", err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", ref)
			}
			if bad > 0 {
				return cli.BadInputf("%d of %d scenarios are bad", bad, len(args))
			}
			return nil
		},
	}
}
