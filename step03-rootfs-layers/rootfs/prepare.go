package rootfs

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/image"
	"minidocker/step03-rootfs-layers/layers"
)

// Prepare makes everything a container of img needs before it starts, and
// returns the init's config: the image's layers unpacked into the store,
// the container's own layer under dir, the command and environment from the
// image's config with the overrides, and this package's stage configured.
// The caller sets the namespaces, the hostname, and anything of later steps.
func Prepare(store *layers.Store, img *image.Image, dir string, o image.Overrides, volumes []Mount) (namespaces.Config, error) {
	var cfg namespaces.Config
	lowers, err := img.Unpack(store)
	if err != nil {
		return cfg, err
	}
	fsCfg, err := ForContainer(dir, lowers, volumes)
	if err != nil {
		return cfg, err
	}
	if err := img.Apply(&cfg, o); err != nil {
		return cfg, err
	}
	raw, err := json.Marshal(fsCfg)
	if err != nil {
		return cfg, err
	}
	cfg.Stages = map[string]json.RawMessage{StageName: raw}
	return cfg, nil
}

// RunFlags are the values of the docker-run-like flags that the demos of
// step 3 and later share (-v, -e, -w, --user, --hostname, --init, --root).
// The flags themselves live at the edges: the demos declare them with
// step03-rootfs-layers/runflags, final's CLI with cobra; both fill this
// struct, and Parse checks it.
type RunFlags struct {
	Env, Volumes []string
	Dir          string
	User         string
	Hostname     string
	Init         bool
	Root         string
	// NamedVolumes lets -v name a volume (NAME:/path) or ask for an
	// anonymous one (/path): final's engine keeps them; the steps' demos
	// take host paths only.
	NamedVolumes bool
}

// Parse checks -v, -e and --hostname, and that we are root, before
// anything is made.
func (f *RunFlags) Parse() ([]Mount, []string, error) {
	if err := namespaces.ValidateHostname(f.Hostname); err != nil {
		return nil, nil, err
	}
	mounts, err := ParseVolumes(f.Volumes)
	if err != nil {
		return nil, nil, err
	}
	for _, m := range mounts {
		if m.Name != "" && !f.NamedVolumes {
			return nil, nil, fmt.Errorf("-v %s: named volumes are final's (minidocker volume); this step takes a host path, /abs/dir:%s", m.Name, m.Destination)
		}
		if m.Anonymous && !f.NamedVolumes {
			return nil, nil, fmt.Errorf("-v %s: anonymous volumes are final's (minidocker volume); this step takes a host path, /abs/dir:%s", m.Destination, m.Destination)
		}
	}
	vars, err := process.ParseEnv(f.Env, os.LookupEnv)
	if err != nil {
		return nil, nil, fmt.Errorf(`invalid argument for "-e" flag: %w`, err)
	}
	if os.Geteuid() != 0 {
		return nil, nil, errors.New("mounts and namespaces need root: run it with sudo")
	}
	return mounts, vars, nil
}

// Overrides are the flags that change the image's defaults, with the
// command-line arguments and the parsed -e values.
func (f *RunFlags) Overrides(args, vars []string) image.Overrides {
	return image.Overrides{Args: args, Env: vars, Dir: f.Dir, User: f.User}
}

// Apply sets --hostname and --init in the init's config.
func (f *RunFlags) Apply(cfg *namespaces.Config) {
	if f.Hostname != "" {
		cfg.Hostname = f.Hostname
	}
	cfg.Init = f.Init
}

// ContainerDir is where a container's own files go under the data root.
func ContainerDir(root, id string) string { return filepath.Join(root, "containers", id) }

// NewContainer lays out a new container of img, ID id (NewID), in
// ContainerDir (Prepare) with the default namespaces and the short ID as
// its hostname, and returns its init config and the clean-up that removes
// its directory (the demos' containers go at exit, like docker run --rm).
func NewContainer(root, id string, store *layers.Store, img *image.Image, o image.Overrides, volumes []Mount) (cfg namespaces.Config, cleanup func(), err error) {
	dir := ContainerDir(root, id)
	cleanup = func() { os.RemoveAll(dir) }
	cfg, err = Prepare(store, img, dir, o, volumes)
	if err != nil {
		cleanup()
		return cfg, nil, err
	}
	cfg.Namespaces, cfg.Hostname = namespaces.Default, id[:12]
	return cfg, cleanup, nil
}

// NewID is a container ID: 32 random bytes in hex, as Docker's. Like
// moby's stringid.GenerateRandomID it never returns an ID whose short,
// 12-character form is all digits, which would read as a number in scripts
// and flags.
func NewID() string {
	b := make([]byte, 32)
	for {
		_, _ = rand.Read(b)
		id := hex.EncodeToString(b)
		if strings.Trim(id[:12], "0123456789") != "" {
			return id
		}
	}
}
