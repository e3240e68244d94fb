package daemon

import (
	"net/http"
	"time"

	"minidocker/final/engine"
)

// volumeJSON is a volume as the API shows it (CreatedAt as RFC 3339 text).
func volumeJSON(v engine.Volume) map[string]any {
	return map[string]any{"CreatedAt": v.CreatedAt.Format(time.RFC3339), "Driver": v.Driver, "Labels": v.Labels,
		"Mountpoint": v.Mountpoint, "Name": v.Name, "Options": v.Options, "Scope": v.Scope}
}

// volumeCreate is POST /volumes/create: 201 with the volume.
func (s *Server) volumeCreate(w http.ResponseWriter, r *http.Request) error {
	var req struct{ Name string }
	if err := decode(r, &req); err != nil {
		return err
	}
	v, err := s.e.CreateVolume(req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, volumeJSON(v))
}

// volumeList is GET /volumes.
func (s *Server) volumeList(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.e.Volumes()
	if err != nil {
		return err
	}
	list := []map[string]any{}
	for _, v := range vols {
		list = append(list, volumeJSON(v))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"Volumes": list, "Warnings": []string{}})
}

// volumeInspect is GET /volumes/{name}.
func (s *Server) volumeInspect(w http.ResponseWriter, r *http.Request) error {
	v, err := s.e.InspectVolume(r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, volumeJSON(v))
}

// volumeDelete is DELETE /volumes/{name}: 204, or 409 while in use.
func (s *Server) volumeDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.e.RemoveVolume(r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// volumePrune is POST /volumes/prune (filters all=true for named ones).
func (s *Server) volumePrune(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilters(r, "all", "label")
	if err != nil {
		return err
	}
	all := false
	for _, v := range f["all"] {
		all = all || v == "true" || v == "1"
	}
	gone, err := s.e.PruneVolumes(all)
	if err != nil {
		return err
	}
	if gone == nil {
		gone = []string{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"VolumesDeleted": gone, "SpaceReclaimed": 0})
}
