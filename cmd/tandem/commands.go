package main

import "github.com/spf13/cobra"

// commands lists the subcommands of the tandem binary.
func commands() []*cobra.Command {
	return []*cobra.Command{}
}
