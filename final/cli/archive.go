package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) saveCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Long: "Write images as one tar: an OCI image layout (blobs/sha256, index.json) with docker save's manifest.json,\n" +
			"the layers as the uncompressed tars they were pulled as. docker load, skopeo and podman read it.",
		Example: "  minidocker save -o busybox.tar busybox",
		Args:    minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			if output == "" {
				if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					return errors.New("cowardly refusing to save to a terminal. Use the -o flag or redirect")
				}
				return e.Save(a.stdout, args)
			}
			// A temporary file renamed into place: a failed save leaves
			// no half archive under the name.
			f, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".tmp-")
			if err != nil {
				return fmt.Errorf("failed to save image: %w", err)
			}
			defer os.Remove(f.Name())
			err = e.Save(f, args)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Chmod(f.Name(), 0o644)
			}
			if err != nil {
				return err
			}
			return os.Rename(f.Name(), output)
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return c
}

func (a *app) loadCmd() *cobra.Command {
	var input string
	var quiet bool
	c := &cobra.Command{
		Use:     "load [OPTIONS]",
		Short:   "Load an image from a tar archive or STDIN",
		Long:    "Load images saved by docker save or minidocker save (or an OCI layout as a tar, as skopeo's oci-archive).",
		Example: "  minidocker load -i busybox.tar",
		Args:    exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			var r io.Reader = os.Stdin
			if input != "" {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			} else if term.IsTerminal(int(os.Stdin.Fd())) {
				return errors.New("requested load from stdin, but stdin is empty")
			}
			lines, err := e.Load(r)
			if err != nil {
				return err
			}
			if !quiet {
				for _, l := range lines {
					a.println(l)
				}
			}
			return nil
		},
	}
	c.Flags().StringVarP(&input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress the load output")
	return c
}
