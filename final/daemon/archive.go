package daemon

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"

	"minidocker/final/engine"
	"minidocker/final/errdefs"
)

// The archive endpoints, docker cp's: HEAD stats a path in the container,
// GET streams it as a tar, PUT unpacks a tar into a directory. The stat
// travels in the X-Docker-Container-Path-Stat header as base64 JSON, on
// HEAD and GET alike; the docker CLI decides from it where the copy lands.

// pathStatHeader is the stat's header.
const pathStatHeader = "X-Docker-Container-Path-Stat"

func setPathStat(w http.ResponseWriter, st engine.PathStat) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(b))
	return nil
}

// archivePath is the required ?path=.
func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", errdefs.InvalidParameter(errorString("path cannot be empty"))
	}
	return p, nil
}

// containerArchiveHead is HEAD /containers/{id}/archive?path=P.
func (s *Server) containerArchiveHead(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	st, err := s.e.StatPath(r.PathValue("id"), p)
	if err != nil {
		return err
	}
	if err := setPathStat(w, st); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// containerArchiveGet is GET /containers/{id}/archive?path=P: the stat,
// then the tar.
func (s *Server) containerArchiveGet(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	rc, st, err := s.e.ArchivePath(r.PathValue("id"), p)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := setPathStat(w, st); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rc); err != nil {
		s.log.Printf("GET archive %s: %v", p, err) // the status is sent: the tar just ends
	}
	return nil
}

// containerArchivePut is PUT /containers/{id}/archive?path=DIR, the body a
// tar (of any size: ServeHTTP does not limit it).
func (s *Server) containerArchivePut(w http.ResponseWriter, r *http.Request) error {
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if err := s.e.ExtractArchive(r.PathValue("id"), p, r.Body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
