package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestHelp: every command has a Short help and an Example (docker's
// reference has examples for each), except the ones cobra writes itself
// (help, and completion's per-shell commands).
func TestHelp(t *testing.T) {
	a := &app{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || (sub.Parent().Name() == "completion") {
				continue
			}
			if strings.TrimSpace(sub.Short) == "" {
				t.Errorf("%s has no Short help", sub.CommandPath())
			}
			if strings.TrimSpace(sub.Example) == "" {
				t.Errorf("%s has no Example", sub.CommandPath())
			}
			walk(sub)
		}
	}
	root := a.command()
	walk(root)
	if c, _, err := root.Find([]string{"completion"}); err != nil || c.Name() != "completion" {
		t.Errorf("no completion command: %v", err)
	}
}
