// Package trainprogress shows training as it goes: a progress bar with loss,
// accuracy and images/s on a terminal, one line per epoch otherwise (logs, CI).
package trainprogress

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/tandem-edge/tandem/dnn"
)

// New returns a dnn.Train progress callback writing to w, labelled.
func New(w io.Writer, label string) func(dnn.Progress) {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	var bar *progressbar.ProgressBar
	return func(p dnn.Progress) {
		if p.EpochDone {
			if bar != nil {
				bar.Finish()
				bar = nil
				fmt.Fprintln(w)
			}
			val := ""
			if p.ValAccuracy >= 0 {
				val = fmt.Sprintf("  val %.4f", p.ValAccuracy)
			}
			fmt.Fprintf(w, "%s epoch %d/%d  loss %.4f  train %.4f%s  %.0f img/s  lr %.4g\n",
				label, p.Epoch, p.Epochs, p.Loss, p.Accuracy, val, p.ImagesPerSec, p.LR)
			return
		}
		if !tty {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(p.Steps, progressbar.OptionSetWriter(w),
				progressbar.OptionSetWidth(30), progressbar.OptionShowCount(), progressbar.OptionThrottle(100_000_000))
		}
		bar.Describe(fmt.Sprintf("%s epoch %d/%d loss %.4f acc %.4f %.0f img/s", label, p.Epoch, p.Epochs, p.Loss, p.Accuracy, p.ImagesPerSec))
		bar.Set(p.Step)
	}
}
