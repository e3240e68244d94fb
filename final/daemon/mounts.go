package daemon

import (
	"io/fs"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
	"minidocker/step03-rootfs-layers/rootfs"
)

// apiMount is one HostConfig.Mounts entry (docker run --mount), with the
// fields minidocker has.
type apiMount struct {
	Type, Source, Target string
	ReadOnly             bool
	BindOptions          *struct{ Propagation string }
	VolumeOptions        *struct{ NoCopy bool }
	TmpfsOptions         *struct {
		SizeBytes int64
		Mode      fs.FileMode
	}
}

// createMounts fills o's mounts from a create request: HostConfig.Binds
// (-v with a source), Config.Volumes (-v /path alone: anonymous volumes),
// HostConfig.Mounts (--mount) and HostConfig.Tmpfs (--tmpfs). The engine
// checks them at create.
func createMounts(req *createRequest, o *engine.RunOptions) error {
	var err error
	if o.Mounts, err = rootfs.ParseVolumes(req.HostConfig.Binds); err != nil {
		return errdefs.InvalidParameter(err)
	}
	for dest := range req.Volumes {
		m, err := rootfs.ParseVolume(dest)
		if err != nil || !m.Anonymous {
			return errdefs.InvalidParameter(errorString("invalid volume specification: '" + dest + "'"))
		}
		o.Mounts = append(o.Mounts, m)
	}
	for _, m := range req.HostConfig.Mounts {
		s := engine.MountSpec{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly}
		if m.BindOptions != nil {
			s.Propagation = m.BindOptions.Propagation
		}
		if m.VolumeOptions != nil {
			s.NoCopy = m.VolumeOptions.NoCopy
		}
		if m.TmpfsOptions != nil {
			s.TmpfsSize, s.TmpfsMode = m.TmpfsOptions.SizeBytes, m.TmpfsOptions.Mode
		}
		o.MountSpecs = append(o.MountSpecs, s)
	}
	o.Tmpfs = req.HostConfig.Tmpfs
	return nil
}
