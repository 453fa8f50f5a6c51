//go:build !race

package hilcmd

const raceEnabled = false
