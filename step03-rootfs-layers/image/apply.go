package image

import (
	"fmt"
	"io"
	"strings"

	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/layers"
)

// Overrides are what docker run's command line changes of the image's
// config.
type Overrides struct {
	Args       []string // [COMMAND] [ARG...]; empty keeps the image's Cmd
	Entrypoint *string  // --entrypoint; nil keeps the image's
	Env        []string // -e, already in KEY=VALUE form, applied over the image's Env
	Dir        string   // -w; "" keeps the image's WorkingDir
	User       string   // --user; "" keeps the image's User
}

// Apply fills in cfg's process from the image's config and the overrides,
// as Docker does: Entrypoint + Cmd, the image's Env with -e on top (and
// Docker's PATH when neither sets one), WorkingDir and User.
func (img *Image) Apply(cfg *namespaces.Config, o Overrides) error {
	c := img.Config.Config
	args, err := Command(c, o.Entrypoint, o.Args)
	if err != nil {
		return err
	}
	cfg.Args = args
	env := []string{"PATH=" + process.DefaultPath}
	for _, list := range [][]string{c.Env, o.Env} {
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			env = process.SetEnv(env, k, v)
		}
	}
	cfg.Env = env
	cfg.Dir = c.WorkingDir
	if o.Dir != "" {
		cfg.Dir = o.Dir
	}
	cfg.User = c.User
	if o.User != "" {
		cfg.User = o.User
	}
	return nil
}

// Unpack unpacks every layer of the image into the store (each at most
// once, shared with other images) and returns the lowerdir list for it.
func (img *Image) Unpack(s *layers.Store) ([]string, error) {
	for _, l := range img.Layers {
		if s.Has(l.DiffID) {
			continue
		}
		r, err := l.Open()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.DiffID, err)
		}
		_, err = s.Unpack(l.DiffID, r)
		// Read to the end so that the digest of the blob is verified too.
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.DiffID, err)
		}
	}
	return s.Lowers(img.DiffIDs()), nil
}
