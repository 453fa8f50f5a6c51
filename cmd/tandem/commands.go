package main

import (
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/bundlecmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/comparecmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/compresscmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/evalcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/hilcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/offloadcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/ortcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/plancmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/profilecmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/reportcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/scenariocmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/simcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/splitcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/sweepcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/traincmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/validatecmd"
)

// commands lists the subcommands of the tandem binary.
func commands() []*cobra.Command {
	return []*cobra.Command{
		simcmd.NewCmd(),
		scenariocmd.NewCmd(),
		traincmd.NewCmd(),
		bundlecmd.NewCmd(),
		evalcmd.NewCmd(),
		ortcmd.NewCmd(),
		profilecmd.NewCmd(),
		compresscmd.NewCmd(),
		offloadcmd.NewCmd(),
		hilcmd.NewCmd(),
		comparecmd.NewCmd(),
		validatecmd.NewCmd(),
		sweepcmd.NewCmd(),
		plancmd.NewCmd(),
		splitcmd.NewCmd(),
		reportcmd.NewCmd(),
	}
}
