package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"minidocker/final/builder"
	"minidocker/final/engine"
	"minidocker/step05-pull/fetch"
)

func (a *app) buildCmd() *cobra.Command {
	var o engine.BuildOptions
	var reg fetch.Flags
	var args []string
	c := &cobra.Command{
		Use:   "build [OPTIONS] PATH",
		Short: "Build an image from a Dockerfile",
		Long: "Build an image from PATH/Dockerfile with the classic builder: one step per instruction, each RUN in a container,\n" +
			"each step's image kept as the build cache. SOURCE_DATE_EPOCH in the environment fixes every time the build writes.",
		Example: "  minidocker build -t hello:v1 .\n  minidocker build --build-arg VERSION=2 -f docker/Dockerfile -t app .",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, pos []string) error {
			o.Context = pos[0]
			o.BuildArgs = map[string]string{}
			for _, kv := range args {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					v, ok = os.LookupEnv(k) // --build-arg K: the value from our environment
					if !ok {
						continue
					}
				}
				o.BuildArgs[k] = v
			}
			if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
				sec, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return fmt.Errorf("SOURCE_DATE_EPOCH=%q: not a number of seconds", s)
				}
				t := time.Unix(sec, 0).UTC()
				o.Epoch = &t
			}
			o.Pull = a.pullOptions(&reg)
			e, err := a.engine()
			if err != nil {
				return err
			}
			id, err := e.Build(a.ctx, o, a.stdout)
			var be *builder.Error
			if errors.As(err, &be) && be.Code > 0 {
				// docker build exits with the failed RUN's code.
				return &exitError{code: be.Code, err: err}
			}
			if err != nil {
				return err
			}
			if o.Quiet {
				a.println(id.String())
			}
			return nil
		},
	}
	fs := c.Flags()
	fs.StringArrayVarP(&o.Tags, "tag", "t", nil, "Name and optionally a tag in the `name:tag` format (repeatable)")
	fs.StringVarP(&o.Dockerfile, "file", "f", "", "Name of the Dockerfile (default: `PATH/Dockerfile`)")
	fs.StringArrayVar(&args, "build-arg", nil, "Set build-time variables (`KEY=VALUE`, repeatable)")
	fs.BoolVar(&o.NoCache, "no-cache", false, "Do not use cache when building the image")
	fs.StringVar(&o.Target, "target", "", "Set the target build stage to build")
	fs.BoolVarP(&o.Quiet, "quiet", "q", false, "Suppress the build output and print image ID on success")
	registryFlags(fs, &reg, false)
	return c
}
