package ociruntime

import (
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"minidocker/step04-cgroups/cgroups"
)

// Update changes a container's limits while it runs (runc update, which
// docker update and containerd's task update call): res holds only what
// changes, in the spec's form; everything it leaves out keeps the value
// create gave it (the record's Resources), and the device rules are left
// as they are, so no device is opened or closed meanwhile.
func (r *Runtime) Update(id string, res *specs.LinuxResources) error {
	unlock, err := r.lock(id)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := r.load(id)
	if err != nil {
		return err
	}
	if r.status(rec) == Stopped {
		return errors.New("cannot update a container that has stopped")
	}
	if len(res.Devices) > 0 {
		return unsupported("linux.resources.devices", "changing the device rules of a running container")
	}
	next, err := mergeResources(rec.Resources, res)
	if err != nil {
		return err
	}
	cg, err := r.cgroups(rec)
	if err != nil {
		return err
	}
	next.Devices = cgroups.Devices{Keep: true}
	if err := cg.Set(next); err != nil {
		return fmt.Errorf("update %s: %w", id, err)
	}
	rec.Resources = next
	rec.Resources.Devices = cgroups.Devices{}
	return r.save(rec)
}

// mergeResources is base with the fields res sets replaced. As at create, a
// zero is "not given": engines send the whole resources object (dockerd
// does), with zeros for what did not change. A negative value asks to
// remove a limit, which update does not do: it says so and keeps it.
func mergeResources(base cgroups.Resources, res *specs.LinuxResources) (cgroups.Resources, error) {
	var upd cgroups.Resources
	if err := convertResources(res, &upd); err != nil {
		return base, err
	}
	kept := func(field string) {
		Warn(fmt.Errorf("update: %s: removing a limit is not supported; the current one is kept", field))
	}
	set := func(field string, v *int64, apply func()) {
		switch {
		case v == nil || *v == 0:
		case *v < 0:
			kept(field)
		default:
			apply()
		}
	}
	if m := res.Memory; m != nil {
		set("linux.resources.memory.limit", m.Limit, func() { base.Memory = upd.Memory })
		if m.Swap != nil && *m.Swap != 0 {
			base.MemorySwap = upd.MemorySwap // -1: unlimited swap, a value of its own
		}
		set("linux.resources.memory.reservation", m.Reservation, func() { base.MemoryReservation = upd.MemoryReservation })
		if m.Swappiness != nil {
			base.MemorySwappiness = upd.MemorySwappiness
		}
		if m.DisableOOMKiller != nil {
			base.OOMKillDisable = upd.OOMKillDisable
		}
	}
	if c := res.CPU; c != nil {
		set("linux.resources.cpu.quota", c.Quota, func() { base.CPUQuota = upd.CPUQuota })
		if c.Shares != nil && *c.Shares != 0 {
			base.CPUShares = upd.CPUShares
		}
		if c.Period != nil && *c.Period != 0 {
			base.CPUPeriod = upd.CPUPeriod
		}
		if c.Cpus != "" {
			base.CpusetCpus = upd.CpusetCpus
		}
		if c.Mems != "" {
			base.CpusetMems = upd.CpusetMems
		}
	}
	if p := res.Pids; p != nil {
		set("linux.resources.pids.limit", p.Limit, func() { base.PidsLimit = upd.PidsLimit })
	}
	return base, nil
}
