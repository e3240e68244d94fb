package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"minidocker/final/engine"
	"minidocker/step05-pull/fetch"
	"minidocker/step05-pull/progress"
	"minidocker/step05-pull/reference"
)

// pullOptions are the registry flags as the engine takes them; --trace
// prints on our stderr.
func (a *app) pullOptions(f *fetch.Flags) engine.PullOptions {
	o := engine.PullOptions{Platform: f.Platform, Mirror: f.Mirror, Insecure: f.Insecure}
	if f.Trace {
		o.Trace = a.stderr
	}
	return o
}

// pullPrinter draws a pull's progress on w as docker pull does: bars on a
// terminal, one line per change otherwise.
func pullPrinter(w io.Writer) *progress.Printer {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = progress.IsTerminal(f)
	}
	return progress.New(w, tty)
}

// missingPrinter is docker run's pull, on stderr: "Unable to find image
// 'x' locally" first, when the engine starts a pull because the image is
// not here.
type missingPrinter struct {
	*progress.Printer
	w   io.Writer
	arg string
}

func (p missingPrinter) Start(ref reference.Reference) {
	fmt.Fprintf(p.w, "Unable to find image '%s' locally\n", p.arg)
	p.Printer.Start(ref)
}

func (a *app) pullCmd() *cobra.Command {
	var reg fetch.Flags
	var quiet bool
	c := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Long:  "Download an image from Docker Hub (or the registry its name says), layer by layer, into the local store.\nDocker Hub images are tried on the registry mirror first ($MINIDOCKER_REGISTRY_MIRROR).",
		Args:  exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			if !quiet {
				_, err = e.Pull(a.ctx, args[0], a.pullOptions(&reg), pullPrinter(a.stdout))
				return err
			}
			// -q: no progress, and the full reference at the end, as
			// docker pull -q prints it: docker.io/library/busybox:latest.
			if _, err = e.Pull(a.ctx, args[0], a.pullOptions(&reg), nil); err != nil {
				return err
			}
			r, err := reference.Parse(args[0])
			if err != nil {
				return err
			}
			a.println(r.String())
			return nil
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	registryFlags(c.Flags(), &reg, true)
	return c
}

func (a *app) imagesCmd() *cobra.Command {
	var f fetch.ImagesFormat
	var filterArgs []string
	c := &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Long:  "List images; with REPOSITORY[:TAG] (shell patterns allowed: 'bus*'), only the names that match.",
		Args:  maxArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			filters, err := engine.ParseFilters(filterArgs, "dangling", "label")
			if err != nil {
				return err
			}
			filter, err := engine.NewImageFilter(filters)
			if err != nil {
				return err
			}
			e, err := a.engine()
			if err != nil {
				return err
			}
			list, err := e.Images()
			if err != nil {
				return err
			}
			kept := list[:0]
			for _, img := range list {
				if filter.Match(&img) {
					kept = append(kept, img)
				}
			}
			list = kept
			if len(args) == 1 {
				list = fetch.MatchImages(list, args[0])
			}
			fetch.PrintImages(a.stdout, list, f, time.Now())
			return nil
		},
	}
	c.Flags().BoolVarP(&f.Quiet, "quiet", "q", false, "Only show image IDs")
	c.Flags().BoolVar(&f.Digests, "digests", false, "Show digests")
	c.Flags().StringArrayVarP(&filterArgs, "filter", "f", nil, "Filter output based on conditions provided (dangling=true|false, label=KEY[=VALUE])")
	return c
}

func (a *app) rmiCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "rmi [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove one or more images",
		Long:  "Untag images, and delete their layers that no other image uses. An image a container uses is kept unless -f.",
		Args:  minArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			// One at a time: each takes the image store's lock anyway.
			return a.eachArg(args, 1, func(arg string) ([]string, error) {
				return e.RemoveImage(arg, force)
			})
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "Force removal of the image")
	return c
}

func (a *app) printJSON(v any) error {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(append(data, '\n'))
	return err
}
