package cli

import (
	"encoding/json"
	goflag "flag"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"

	"minidocker/step05-pull/fetch"
	"minidocker/step05-pull/store"
)

func (a *app) pullCmd() *cobra.Command {
	var reg fetch.Flags
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
			_, err = reg.Pull(a.ctx, e.Images, args[0], a.stdout)
			return err
		},
	}
	gofs := goflag.NewFlagSet("", goflag.ContinueOnError)
	reg.Register(gofs)
	addGoFlags(c.Flags(), gofs, nil)
	return c
}

func (a *app) imagesCmd() *cobra.Command {
	var quiet bool
	c := &cobra.Command{
		Use:   "images [OPTIONS]",
		Short: "List images",
		Args:  exactArgs(0),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := a.engine()
			if err != nil {
				return err
			}
			list, err := e.Images.Images()
			if err != nil {
				return err
			}
			fetch.PrintImages(a.stdout, list, quiet, time.Now())
			return nil
		},
	}
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
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
			list, err := e.Containers.List()
			if err != nil {
				return err
			}
			inUse := func(id digest.Digest) string {
				for _, c := range list {
					if c.Config.ImageID == id.String() {
						return c.ShortID()
					}
				}
				return ""
			}
			return a.eachArg(args, func(arg string) error {
				lines, err := e.Images.Remove(arg, force, inUse)
				for _, l := range lines {
					a.println(l)
				}
				return err
			})
		},
	}
	c.Flags().BoolVarP(&force, "force", "f", false, "Force removal of the image")
	return c
}

// imageInspect is docker image inspect's JSON, the part we have.
type imageInspect struct {
	ID           string `json:"Id"`
	RepoTags     []string
	RepoDigests  []string
	Created      time.Time
	Config       any
	Architecture string
	Os           string
	Size         int64
	RootFS       any
}

func inspectImage(img *store.Image) imageInspect {
	return imageInspect{
		ID: img.ID.String(), RepoTags: img.RepoTags, RepoDigests: img.RepoDigests,
		Created: img.Created, Config: img.Config.Config, Architecture: img.Config.Architecture,
		Os: img.Config.OS, Size: img.Size, RootFS: img.Config.RootFS,
	}
}

func (a *app) printJSON(v any) error {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = a.stdout.Write(append(data, '\n'))
	return err
}
