package ociruntime

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minidocker/step03-rootfs-layers/rootfs"
)

// convertMounts is config.json's mounts, devices and sysctls: step 3 mounts
// exactly the spec's list, in its order (SpecMounts), instead of the /proc,
// /dev, /sys and volumes that run chooses. An empty list stays empty (no
// mounts at all), never "the defaults".
func convertMounts(spec *specs.Spec, p *Plan) error {
	p.Rootfs.SpecMounts = []rootfs.SpecMount{}
	for i, m := range spec.Mounts {
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			return unsupported(fmt.Sprintf("mounts[%d].uidMappings", i), "an ID-mapped mount")
		}
		sm := rootfs.SpecMount{Destination: m.Destination, Type: m.Type, Source: m.Source, Options: m.Options}
		bind := m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
		if bind && !filepath.IsAbs(sm.Source) {
			sm.Source = filepath.Join(p.bundle, sm.Source) // the spec: relative to the bundle
		}
		if err := rootfs.CheckSpecMount(sm); err != nil {
			return fmt.Errorf("mounts[%d]: %w", i, err)
		}
		p.Rootfs.SpecMounts = append(p.Rootfs.SpecMounts, sm)
	}
	for i, d := range spec.Linux.Devices {
		dev := rootfs.Device{Path: d.Path, Type: d.Type, Major: d.Major, Minor: d.Minor}
		if d.FileMode != nil {
			dev.FileMode = *d.FileMode & os.ModePerm
		}
		if d.UID != nil {
			dev.UID = *d.UID
		}
		if d.GID != nil {
			dev.GID = *d.GID
		}
		if !filepath.IsAbs(d.Path) {
			return fmt.Errorf("linux.devices[%d]: path %q is not absolute", i, d.Path)
		}
		p.Rootfs.Devices = append(p.Rootfs.Devices, dev)
	}
	for key := range spec.Linux.Sysctl {
		if err := rootfs.CheckSysctl(key, p.Init.Has); err != nil {
			return fmt.Errorf("linux.sysctl: %w", err)
		}
	}
	p.Rootfs.Sysctl = spec.Linux.Sysctl
	return nil
}
