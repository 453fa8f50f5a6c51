// Package ortcmd is `tandem ort`: which ONNX Runtime tandem runs, and whether
// it works.
package ortcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/cli"
	"github.com/tandem-edge/tandem/hil"
)

// NewCmd builds `tandem ort` and its subcommands.
func NewCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ort",
		Short: "The ONNX Runtime library tandem runs models with",
		Long: `tandem executes models with ONNX Runtime, a shared library loaded at run time from
  1. the file $ONNXRUNTIME_LIB, when set;
  2. tandem's cache (` + "`scripts/setup.sh`" + ` fetches ONNX Runtime ` + hil.ORTVersion + ` there):
     $TANDEM_CACHE, else $XDG_CACHE_HOME/tandem, else ~/.cache/tandem,
     at onnxruntime/` + hil.ORTVersion + `/<goos>-<goarch>/libonnxruntime.so.1 (.1.dylib on macOS);
  3. the system's libonnxruntime, found by the dynamic loader.`,
		Args: cli.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cli.BadInputf("unknown command %q for %q (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newCheckCmd(checkRun))
	return cmd
}

// CheckOptions are the inputs of `tandem ort check`.
type CheckOptions struct {
	JSON bool
	Out  io.Writer
}

func newCheckCmd(runF func(*CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Load ONNX Runtime and run a small model through it",
		Long: `Load ONNX Runtime, run a small linear model through it on one thread and compare
its output with the same arithmetic in Go. Prints where the library came from and
its version; fails (exit status 1) when it cannot be loaded or computes wrongly.`,
		Example: `  tandem ort check
  ONNXRUNTIME_LIB=/opt/onnxruntime/lib/libonnxruntime.so tandem ort check --json`,
		Args: cli.ExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Out = cmd.OutOrStdout()
			return runF(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print one JSON object instead of text")
	return cmd
}

func checkRun(opts *CheckOptions) error {
	out := opts.Out
	if out == nil {
		out = os.Stdout
	}
	res, err := hil.CheckORT()
	if err != nil {
		return err
	}
	if opts.JSON {
		return json.NewEncoder(out).Encode(map[string]any{
			"ort_version":   res.Version,
			"library":       res.Library,
			"max_abs_error": res.MaxAbsError,
			"run_ms":        hil.Milliseconds(res.RunTime),
		})
	}
	_, err = fmt.Fprintf(out, "ONNX Runtime %s\nlibrary:      %s\nlinear model: ok (off by %.2g; %v per batch-1 run)\n",
		res.Version, res.Library, res.MaxAbsError, res.RunTime)
	return err
}
