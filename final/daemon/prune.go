package daemon

import (
	"net/http"

	"minidocker/final/engine"
)

// containerPrune is POST /containers/prune?filters=...: the removed IDs
// and the space their writable layers held.
func (s *Server) containerPrune(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, "until", "label", "label!")
	if err != nil {
		return err
	}
	rep, err := s.e.PruneContainers(engine.Filters(f))
	if err != nil {
		return err
	}
	deleted := rep.Deleted
	if deleted == nil {
		deleted = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ContainersDeleted": deleted, "SpaceReclaimed": rep.SpaceReclaimed})
}

// imagePrune is POST /images/prune?filters=...: dangling=false for every
// unused image (docker image prune -a).
func (s *Server) imagePrune(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, "until", "label", "label!", "dangling")
	if err != nil {
		return err
	}
	rep, err := s.e.PruneImages(engine.Filters(f))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"ImagesDeleted": deleteItems(rep.Deleted), "SpaceReclaimed": rep.SpaceReclaimed})
}

// systemDF is GET /system/df in the form of API versions before 1.52
// (which we serve): the items, from which the client makes the table.
func (s *Server) systemDF(w http.ResponseWriter, r *http.Request) error {
	du, err := s.e.DiskUsage()
	if err != nil {
		return err
	}
	images := []imageSummary{}
	for _, u := range du.Images {
		images = append(images, imageJSON(u))
	}
	containers := []containerSummary{}
	for _, u := range du.Containers {
		cs := summary(u.Inspect())
		cs.SizeRw, cs.SizeRootFs = u.SizeRw, u.SizeRootFs
		containers = append(containers, cs)
	}
	volumes := []map[string]any{}
	for _, u := range du.Volumes {
		v := volumeJSON(u.Volume)
		v["UsageData"] = map[string]int64{"Size": u.Size, "RefCount": int64(u.RefCount)}
		volumes = append(volumes, v)
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"LayersSize": du.LayersSize, "Images": images, "Containers": containers,
		"Volumes": volumes, "BuildCache": []any{},
	})
}

// buildPrune is POST /build/prune (docker builder prune, and the last part
// of docker system prune): the classic builder's step images no name and
// no container holds.
func (s *Server) buildPrune(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.e.PruneBuildCache()
	if err != nil {
		return err
	}
	deleted := rep.Deleted
	if deleted == nil {
		deleted = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"CachesDeleted": deleted, "SpaceReclaimed": rep.SpaceReclaimed})
}
