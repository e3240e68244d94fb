package apiclient

import (
	"time"

	"github.com/moby/moby/client"
	"github.com/opencontainers/go-digest"

	"minidocker/final/engine"
	"minidocker/step05-pull/store"
)

// filtersOf is the engine's filters as the client sends them.
func filtersOf(f engine.Filters) client.Filters {
	out := client.Filters{}
	for k, vs := range f {
		out.Add(k, vs...)
	}
	return out
}

// ContainerSizes is GET /containers/json?all=1&size=1.
func (c *Client) ContainerSizes() (map[string]engine.ContainerSize, error) {
	res, err := c.api.ContainerList(c.ctx, client.ContainerListOptions{All: true, Size: true})
	if err != nil {
		return nil, kind(err)
	}
	out := map[string]engine.ContainerSize{}
	for _, s := range res.Items {
		out[s.ID] = engine.ContainerSize{SizeRw: s.SizeRw, SizeRootFs: s.SizeRootFs}
	}
	return out, nil
}

// PruneContainers is POST /containers/prune.
func (c *Client) PruneContainers(f engine.Filters) (engine.PruneReport, error) {
	res, err := c.api.ContainerPrune(c.ctx, client.ContainerPruneOptions{Filters: filtersOf(f)})
	if err != nil {
		return engine.PruneReport{}, kind(err)
	}
	return engine.PruneReport{Deleted: res.Report.ContainersDeleted, SpaceReclaimed: int64(res.Report.SpaceReclaimed)}, nil
}

// PruneImages is POST /images/prune: the daemon's untagged and deleted
// entries as docker rmi's lines.
func (c *Client) PruneImages(f engine.Filters) (engine.PruneReport, error) {
	res, err := c.api.ImagePrune(c.ctx, client.ImagePruneOptions{Filters: filtersOf(f)})
	if err != nil {
		return engine.PruneReport{}, kind(err)
	}
	rep := engine.PruneReport{SpaceReclaimed: int64(res.Report.SpaceReclaimed)}
	for _, d := range res.Report.ImagesDeleted {
		if d.Untagged != "" {
			rep.Deleted = append(rep.Deleted, "Untagged: "+d.Untagged)
		}
		if d.Deleted != "" {
			rep.Deleted = append(rep.Deleted, "Deleted: "+d.Deleted)
		}
	}
	return rep, nil
}

// PruneBuildCache is POST /build/prune.
func (c *Client) PruneBuildCache() (engine.PruneReport, error) {
	res, err := c.api.BuildCachePrune(c.ctx, client.BuildCachePruneOptions{All: true})
	if err != nil {
		return engine.PruneReport{}, kind(err)
	}
	return engine.PruneReport{Deleted: res.Report.CachesDeleted, SpaceReclaimed: int64(res.Report.SpaceReclaimed)}, nil
}

// DiskUsage is GET /system/df. The images' reclaimable space is the
// client library's reckoning from Size and SharedSize (the daemon's API
// version has no field for it).
func (c *Client) DiskUsage() (engine.DiskUsage, error) {
	res, err := c.api.DiskUsage(c.ctx, client.DiskUsageOptions{Containers: true, Images: true, Volumes: true, Verbose: true})
	if err != nil {
		return engine.DiskUsage{}, kind(err)
	}
	du := engine.DiskUsage{LayersSize: res.Images.TotalSize, ImagesReclaimable: res.Images.Reclaimable}
	for _, s := range res.Images.Items {
		img := store.Image{ID: digest.Digest(s.ID), RepoTags: s.RepoTags, RepoDigests: s.RepoDigests,
			Created: time.Unix(s.Created, 0), Size: s.Size}
		img.Config.Config.Labels = s.Labels
		du.Images = append(du.Images, engine.ImageUsage{Image: img, SharedSize: s.SharedSize, Containers: int(s.Containers)})
	}
	// The containers as ps has them (each one's inspect: its times and
	// exit code), with the sizes of the df's items.
	sizes := map[string]engine.ContainerSize{}
	for _, s := range res.Containers.Items {
		sizes[s.ID] = engine.ContainerSize{SizeRw: s.SizeRw, SizeRootFs: s.SizeRootFs}
	}
	list, err := c.List(true)
	if err != nil {
		return du, err
	}
	for _, ctr := range list {
		if size, ok := sizes[ctr.ID]; ok {
			du.Containers = append(du.Containers, engine.ContainerUsage{Container: ctr, ContainerSize: size})
		}
	}
	for _, v := range res.Volumes.Items {
		u := engine.VolumeUsage{Volume: fromVolume(v)}
		if v.UsageData != nil {
			u.Size, u.RefCount = v.UsageData.Size, int(v.UsageData.RefCount)
		}
		du.Volumes = append(du.Volumes, u)
	}
	return du, nil
}
