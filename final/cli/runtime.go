package cli

import (
	"github.com/spf13/cobra"

	"minidocker/final/ociruntime"
)

// runtimeCmd is minidocker as an OCI runtime, runc's command line
// (package ociruntime). Engines call it by a path instead, a symlink named
// minidocker-runtime: "dockerd --add-runtime minidocker=/usr/local/bin/minidocker-runtime".
func (a *app) runtimeCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "runtime [--root DIR] COMMAND [ARG...]",
		Short:              "Run containers from OCI bundles with runc's command line (create, start, state, kill, delete)",
		DisableFlagParsing: true, // every flag is the runtime's own
		RunE: func(_ *cobra.Command, args []string) error {
			if code := ociruntime.Main(args); code != 0 {
				return &exitError{code: code} // the runtime said why
			}
			return nil
		},
	}
}
