package rootfs

import (
	"encoding/json"

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
