package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
	"minidocker/step05-pull/fetch"
	"minidocker/step05-pull/progress"
	"minidocker/step05-pull/reference"
)

func (a *app) tagCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short:   "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Long:    "Give an image one more name: a new entry in the image index, pointing at the same image ID. Nothing is copied.",
		Example: "  minidocker tag busybox 127.0.0.1:5000/team/busybox:v1",
		Args:    exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			return e.Tag(args[0], args[1])
		},
	}
}

func (a *app) pushCmd() *cobra.Command {
	var reg fetch.Flags
	var quiet bool
	c := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Long: "Upload an image to the registry its name says (tag it first: minidocker tag).\n" +
			"Layers the registry has already, or can mount from another of its repositories, are not sent again.",
		Example: "  minidocker tag busybox 127.0.0.1:5000/team/busybox:v1\n  minidocker push 127.0.0.1:5000/team/busybox:v1",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			r, err := reference.Parse(args[0])
			if err != nil {
				return err
			}
			if last := args[0][strings.LastIndex(args[0], "/")+1:]; !strings.ContainsAny(last, ":@") {
				a.println("Using default tag: latest") // as the docker CLI says
			}
			e, err := a.engine()
			if err != nil {
				return err
			}
			var p engine.PushProgress
			if !quiet {
				p = progress.PushPrinter{Printer: pullPrinter(a.stdout)}
			}
			if _, err := e.Push(a.ctx, r.String(), a.pullOptions(&reg), p); err != nil {
				return err
			}
			if quiet {
				a.println(r.String()) // docker push -q prints the reference
			}
			return nil
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	registryFlags(c.Flags(), &reg, false)
	return c
}
