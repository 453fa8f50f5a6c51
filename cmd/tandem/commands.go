package main

import (
	"github.com/spf13/cobra"

	"github.com/tandem-edge/tandem/cmd/tandem/internal/evalcmd"
	"github.com/tandem-edge/tandem/cmd/tandem/internal/ortcmd"
)

// commands lists the subcommands of the tandem binary.
func commands() []*cobra.Command {
	return []*cobra.Command{
		evalcmd.NewCmd(),
		ortcmd.NewCmd(),
	}
}
