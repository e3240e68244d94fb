package engine

// Disk usage and the prunes: docker ps -s, system df, container prune,
// image prune. What a container adds to the disk is its writable layer,
// the overlay's upperdir (containers/<id>/upper); what an image costs is
// its layers, and a layer two images share is stored once and counted
// once.

import (
	"errors"
	"path/filepath"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"

	"minidocker/final/errdefs"
	"minidocker/final/state"
	"minidocker/step03-rootfs-layers/layers"
	"minidocker/step05-pull/store"
)

// ContainerSize is docker ps -s's SIZE: SizeRw is what the container wrote
// (its upperdir), SizeRootFs that plus its image's layers ("virtual").
type ContainerSize struct {
	SizeRw     int64
	SizeRootFs int64
}

// ContainerSizes are the sizes of every container, by ID.
func (e *Engine) ContainerSizes() (map[string]ContainerSize, error) {
	list, err := e.containers.List()
	if err != nil {
		return nil, err
	}
	images, err := e.imageSizes()
	if err != nil {
		return nil, err
	}
	out := map[string]ContainerSize{}
	for _, c := range list {
		rw := e.writableSize(c.ID)
		out[c.ID] = ContainerSize{SizeRw: rw, SizeRootFs: rw + images[c.Config.ImageID]}
	}
	return out, nil
}

// writableSize is the size of the files in the container's upperdir (0
// for one that never started: it has none yet).
func (e *Engine) writableSize(id string) int64 {
	n, _ := layers.DirSize(filepath.Join(e.containerDir(id), "upper"))
	return n
}

func (e *Engine) imageSizes() (map[string]int64, error) {
	images, err := e.images.Images()
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, img := range images {
		out[img.ID.String()] = img.Size
	}
	return out, nil
}

// PruneReport is what a prune removed: container IDs, or for images
// docker rmi's lines ("Untagged: …", "Deleted: sha256:…"); and the bytes
// that freed.
type PruneReport struct {
	Deleted        []string
	SpaceReclaimed int64
}

// PruneContainers is docker container prune: every container that does
// not run (created or exited; a paused one runs) and matches f (until=,
// label=, label!=) is removed. SpaceReclaimed is their writable layers'
// size. A container started meanwhile is skipped, not stopped: the
// removal takes its lock and refuses a running one.
func (e *Engine) PruneContainers(f Filters) (PruneReport, error) {
	var rep PruneReport
	pf, err := pruneFilters(f, time.Now(), "until", "label", "label!")
	if err != nil {
		return rep, err
	}
	list, err := e.List(true)
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, c := range slices.Backward(list) { // oldest first, as dockerd walks them
		if c.State.Running || c.State.Restarting || c.State.BeingRemoved() || !pf.match(c.Created, c.Config.Labels) {
			continue
		}
		size := e.writableSize(c.ID)
		err := e.remove(c, false)
		switch {
		case err == nil:
			rep.Deleted = append(rep.Deleted, c.ID)
			rep.SpaceReclaimed += size
		case errdefs.IsConflict(err), errors.Is(err, state.ErrNotFound):
			// started, or removed, since the listing
		default:
			errs = append(errs, err)
		}
	}
	return rep, errors.Join(errs...)
}

// PruneImages is docker image prune: the images no container uses
// (running or stopped) that match f; only the dangling ones (no tag)
// unless f says dangling=false (image prune -a). until= and label= (the
// image config's labels) narrow it. Each goes with all its names; its
// layers go unless a remaining image lists them too. SpaceReclaimed is
// the size of the layers deleted.
func (e *Engine) PruneImages(f Filters) (PruneReport, error) {
	var rep PruneReport
	pf, err := pruneFilters(f, time.Now(), "until", "label", "label!", "dangling")
	if err != nil {
		return rep, err
	}
	used, err := e.usedImages()
	if err != nil {
		return rep, err
	}
	rep.Deleted, rep.SpaceReclaimed, err = e.images.Prune(func(img *store.Image) bool {
		return !used[img.ID] && (!pf.dangling || dangling(img)) && pf.match(img.Created, img.Config.Config.Labels)
	})
	return rep, err
}

// usedImages are the images of all containers, running or not.
func (e *Engine) usedImages() (map[digest.Digest]bool, error) {
	list, err := e.containers.List()
	if err != nil {
		return nil, err
	}
	used := map[digest.Digest]bool{}
	for _, c := range list {
		used[digest.Digest(c.Config.ImageID)] = true
	}
	return used, nil
}

// DiskUsage is docker system df's data: every image, container and volume
// with its size, and the totals of its table.
type DiskUsage struct {
	// LayersSize is the size of the stored layers, each counted once.
	LayersSize int64
	Images     []ImageUsage
	Containers []ContainerUsage
	Volumes    []VolumeUsage
	// Reclaimable for images: the layers that no image a container uses
	// lists, which image prune -a would delete. (The docker CLI reckons
	// it from Size and SharedSize instead, and counts a layer an unused
	// image shares with a used one as reclaimable: it is not.)
	ImagesReclaimable int64
}

// ImageUsage is an image in docker system df -v.
type ImageUsage struct {
	store.Image
	SharedSize int64 // of its layers that another image lists too
	Containers int   // that use it, running or not
}

// ContainerUsage is a container in docker system df -v.
type ContainerUsage struct {
	*state.Container
	ContainerSize
}

// VolumeUsage is a volume in docker system df -v.
type VolumeUsage struct {
	Volume
	Size     int64 // of the files in it
	RefCount int   // containers that mount it, running or not
}

// DiskUsage measures what the data root holds: images (layers counted
// once however many images share them), containers' writable layers and
// volumes.
func (e *Engine) DiskUsage() (DiskUsage, error) {
	var du DiskUsage
	images, err := e.images.Images()
	if err != nil {
		return du, err
	}
	containers, err := e.List(true)
	if err != nil {
		return du, err
	}
	users := map[string]int{}
	for _, c := range containers {
		users[c.Config.ImageID]++
	}
	// Which images list each layer, and which layers a used image needs.
	listedBy := map[digest.Digest]int{}
	needed := map[digest.Digest]bool{}
	for _, img := range images {
		for _, d := range unique(img.Config.RootFS.DiffIDs) {
			listedBy[d]++
			if users[img.ID.String()] > 0 {
				needed[d] = true
			}
		}
	}
	for d := range listedBy {
		size := e.images.Layers().Size(d)
		du.LayersSize += size
		if !needed[d] {
			du.ImagesReclaimable += size
		}
	}
	sizes := map[string]int64{}
	for _, img := range images {
		u := ImageUsage{Image: img, Containers: users[img.ID.String()]}
		for _, d := range unique(img.Config.RootFS.DiffIDs) {
			if listedBy[d] > 1 {
				u.SharedSize += e.images.Layers().Size(d)
			}
		}
		sizes[img.ID.String()] = img.Size
		du.Images = append(du.Images, u)
	}
	for _, c := range containers {
		rw := e.writableSize(c.ID)
		du.Containers = append(du.Containers, ContainerUsage{c, ContainerSize{SizeRw: rw, SizeRootFs: rw + sizes[c.Config.ImageID]}})
	}
	vols, err := e.Volumes()
	if err != nil {
		return du, err
	}
	for _, v := range vols {
		users, err := e.usersOf(v.Name)
		if err != nil {
			return du, err
		}
		size, _ := layers.DirSize(v.Mountpoint)
		du.Volumes = append(du.Volumes, VolumeUsage{Volume: v, Size: size, RefCount: len(users)})
	}
	return du, nil
}

// unique is ds without repeats (a layer listed twice in one image).
func unique(ds []digest.Digest) []digest.Digest {
	var out []digest.Digest
	for _, d := range ds {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// PruneBuildCache is docker builder prune: the images a build committed as
// its steps (the build cache, store.Commit's intermediate images) that no
// name and no container holds. The layers go with them when no other image
// lists them, as for any image.
func (e *Engine) PruneBuildCache() (PruneReport, error) {
	var rep PruneReport
	used, err := e.usedImages()
	if err != nil {
		return rep, err
	}
	var picked []string
	var lines []string
	lines, rep.SpaceReclaimed, err = e.images.Prune(func(img *store.Image) bool {
		if img.Intermediate && len(img.RepoTags) == 0 && !used[img.ID] {
			picked = append(picked, img.ID.String())
			return true
		}
		return false
	})
	for _, id := range picked { // the images, not their layers' lines
		if slices.Contains(lines, "Deleted: "+id) {
			rep.Deleted = append(rep.Deleted, id)
		}
	}
	return rep, err
}
