// Command step03-rootfs-layers runs an image stored on disk (a docker save
// archive or an OCI layout): its layers stacked with overlayfs under a
// writable layer of the container's own, and pivot_root into them.
//
//	sudo go run ./step03-rootfs-layers run --image PATH [-v SRC:DST[:ro]]... [--hostname H] -- [CMD...]
package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"minidocker/internal/stepcli"
	"minidocker/step01-process/process"
	"minidocker/step02-namespaces/namespaces"
	"minidocker/step03-rootfs-layers/image"
	"minidocker/step03-rootfs-layers/layers"
	"minidocker/step03-rootfs-layers/rootfs"
)

func main() {
	namespaces.Init(rootfs.Stage)

	var env, volumes stepcli.Strings
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	imagePath := fs.String("image", "", "the image: a docker save archive or an OCI layout (`PATH`)")
	fs.Var(&volumes, "v", "bind mount a volume `SRC:DST[:ro]` (repeatable)")
	hostname := fs.String("hostname", "", "the container's host `name` (default: the short container ID)")
	fs.Var(&env, "e", "set an environment variable `KEY=VAL` (repeatable)")
	dir := fs.String("w", "", "working `DIR`ectory inside the container (default: the image's)")
	user := fs.String("user", "", "run as `USER[:GROUP]` from the image's /etc/passwd (default: the image's)")
	init := fs.Bool("init", false, "run a minimal init as PID 1")
	root := fs.String("root", stepcli.DataRoot(), "data `DIR`ectory for layers and containers")

	cmd := stepcli.Command{
		Name:         "step03-rootfs-layers",
		Usage:        "run --image PATH [-v SRC:DST[:ro]]... [--hostname H] [-e KEY=VAL]... [-w DIR] [--user U] -- [CMD...]",
		Flags:        fs,
		ArgsOptional: true,
		Run: func(args []string) (int, error) {
			if *imagePath == "" {
				return 0, errors.New(`"--image" is required`)
			}
			var mounts []rootfs.Mount
			for _, v := range volumes {
				m, err := rootfs.ParseVolume(v)
				if err != nil {
					return 0, fmt.Errorf(`invalid argument %q for "-v" flag: %w`, v, err)
				}
				mounts = append(mounts, m)
			}
			vars, err := process.ParseEnv(env, os.LookupEnv)
			if err != nil {
				return 0, fmt.Errorf(`invalid argument for "-e" flag: %w`, err)
			}
			if os.Geteuid() != 0 {
				return 0, errors.New("mounts and namespaces need root: run it with sudo")
			}
			img, err := image.Load(*imagePath)
			if err != nil {
				return 0, err
			}
			store, err := layers.NewStore(filepath.Join(*root, "layers"))
			if err != nil {
				return 0, err
			}
			lowers, err := img.Unpack(store)
			if err != nil {
				return 0, err
			}

			id := newID()
			ctrDir := filepath.Join(*root, "containers", id)
			defer os.RemoveAll(ctrDir) // like docker run --rm
			fsCfg, err := rootfs.ForContainer(ctrDir, lowers, mounts)
			if err != nil {
				return 0, err
			}
			cfg := namespaces.Config{Namespaces: namespaces.Default, Hostname: *hostname, Init: *init}
			if cfg.Hostname == "" {
				cfg.Hostname = id[:12]
			}
			if err := img.Apply(&cfg, image.Overrides{Args: args, Env: vars, Dir: *dir, User: *user}); err != nil {
				return 0, err
			}
			raw, err := json.Marshal(fsCfg)
			if err != nil {
				return 0, err
			}
			cfg.Stages = map[string]json.RawMessage{rootfs.StageName: raw}
			status, err := namespaces.Run(cfg, namespaces.Options{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
			return status.ExitCode(), err
		},
	}
	os.Exit(cmd.Main(os.Args[1:], os.Stderr))
}

// newID is a container ID: 32 random bytes in hex, as Docker's.
func newID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
