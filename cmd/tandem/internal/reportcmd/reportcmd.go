// Package reportcmd is `tandem report`: a report of a sweep's or a run's
// output folder, as Markdown and as a self-contained HTML page.
package reportcmd

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/report"
)

// NewCmd builds `tandem report`.
func NewCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "report DIR",
		Short: "Write a report of a sweep's or a run's outputs: Markdown and HTML with plots",
		Long: `Write DIR/report.md and DIR/report.html for the outputs in DIR:

  a sweep's (results.jsonl): a table of every point, averaged over its seeds,
    and plots of latency, accuracy, offload rate and cloud utilization against
    the first varied key, a line per value of the others;
  a run's (summary.json from 'tandem sim' or 'tandem hil run', with its
    requests.csv): the summary, the mean time of each stage, and the latency
    distribution of the requests each side answered.

report.html is one file with its plots inline, to hand to whoever buys the
hardware; report.md references the plots as SVG files written beside it.`,
		Example: `  tandem sweep fleet.yaml --out out/fleet && tandem report out/fleet
  tandem sim builtin:default --out out/sim && tandem report out/sim`,
		Args: cli.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			rep, err := report.Build(dir)
			if err != nil {
				return cli.BadInput(err)
			}
			html, err := rep.HTML()
			if err != nil {
				return err
			}
			files := map[string][]byte{"report.md": rep.Markdown(), "report.html": html}
			for _, p := range rep.Plots {
				files[p.File] = p.SVG
			}
			if err := cli.WriteFiles(dir, files); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s (%d plots)\n", filepath.Join(dir, "report.md"), filepath.Join(dir, "report.html"), len(rep.Plots))
			return nil
		},
	}
}
