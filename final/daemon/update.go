package daemon

import (
	"errors"
	"net/http"

	"minidocker/final/errdefs"
	"minidocker/final/state"
)

// updateRequest is POST /containers/{id}/update's body (docker update):
// minidocker changes the restart policy only; a resource it cannot change
// is refused rather than ignored.
type updateRequest struct {
	RestartPolicy state.RestartPolicy
	Memory        int64
	NanoCpus      int64
	CpuShares     int64
	PidsLimit     *int64
}

// containerUpdate is POST /containers/{id}/update: 200 {"Warnings": []}.
// An empty policy name leaves the policy as it is, as dockerd does.
func (s *Server) containerUpdate(w http.ResponseWriter, r *http.Request) error {
	var req updateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Memory != 0 || req.NanoCpus != 0 || req.CpuShares != 0 || req.PidsLimit != nil && *req.PidsLimit != 0 {
		return errdefs.InvalidParameter(errors.New("minidocker updates the restart policy only, not resources"))
	}
	if req.RestartPolicy.Name != "" {
		if err := s.e.UpdateRestartPolicy(r.PathValue("id"), req.RestartPolicy); err != nil {
			return err
		}
	} else if _, err := s.e.InspectContainer(r.PathValue("id")); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"Warnings": []string{}})
}
