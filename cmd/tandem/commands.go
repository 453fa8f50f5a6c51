package main

import (
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/evalcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/ortcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/scenariocmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/simcmd"
)

// commands lists the subcommands of the tandem binary.
func commands() []*cobra.Command {
	return []*cobra.Command{
		simcmd.NewCmd(),
		scenariocmd.NewCmd(),
		evalcmd.NewCmd(),
		ortcmd.NewCmd(),
	}
}
