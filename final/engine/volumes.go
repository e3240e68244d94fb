package engine

// Named volumes: directories the engine keeps under <root>/volumes, that
// outlive the containers using them (docker volume, run -v NAME:/path).
//
//	<root>/volumes/<name>/_data        what containers see, bind-mounted
//	<root>/volumes/<name>/volume.json  its name and creation time
//
// A new volume is empty; the first container that mounts it copies the
// image's files at the mount point into it (step 3's CopyUp), as Docker
// does.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"minidocker/final/errdefs"
	"minidocker/internal/atomicfile"
	"minidocker/internal/flock"
	"minidocker/internal/names"
)

// Volume is a named volume, as docker volume inspect shows it.
type Volume struct {
	CreatedAt  time.Time
	Driver     string
	Labels     map[string]string
	Mountpoint string
	Name       string
	Options    map[string]string
	Scope      string
}

func (e *Engine) volumesDir() string { return filepath.Join(e.Root, "volumes") }

func (e *Engine) lockVolumes() (func(), error) {
	if err := os.MkdirAll(e.volumesDir(), 0o700); err != nil {
		return nil, err
	}
	return flock.Lock(filepath.Join(e.volumesDir(), ".lock"))
}

// CreateVolume is docker volume create [NAME]: a random 64-hex name when
// name is ""; a volume that exists already is returned as it is.
func (e *Engine) CreateVolume(name string) (Volume, error) {
	unlock, err := e.lockVolumes()
	if err != nil {
		return Volume{}, err
	}
	defer unlock()
	return e.createVolume(name, nil)
}

// createVolume makes the volume name (a random one when "") with labels,
// or returns it as it is when it exists. Call it with the volumes' lock.
func (e *Engine) createVolume(name string, labels map[string]string) (Volume, error) {
	if name == "" {
		b := make([]byte, 32)
		rand.Read(b)
		name = hex.EncodeToString(b)
	}
	if !names.Valid(name) {
		return Volume{}, errdefs.InvalidParameter(fmt.Errorf("create %s: %q includes invalid characters for a local volume name, only %q are allowed. If you intended to pass a host directory, use absolute path", name, name, names.Chars))
	}
	if v, err := e.volume(name); err == nil {
		return v, nil
	}
	dir := filepath.Join(e.volumesDir(), name)
	if err := os.MkdirAll(filepath.Join(dir, "_data"), 0o755); err != nil {
		return Volume{}, fmt.Errorf("create %s: %w", name, err)
	}
	if labels == nil {
		labels = map[string]string{}
	}
	v := Volume{CreatedAt: time.Now().UTC().Truncate(time.Second), Driver: "local", Labels: labels,
		Mountpoint: filepath.Join(dir, "_data"), Name: name, Options: map[string]string{}, Scope: "local"}
	data, _ := json.MarshalIndent(v, "", "  ")
	if err := atomicfile.Write(filepath.Join(dir, "volume.json"), data, 0o600); err != nil {
		return Volume{}, fmt.Errorf("create %s: %w", name, err)
	}
	return v, nil
}

func (e *Engine) volume(name string) (Volume, error) {
	var v Volume
	if !names.Valid(name) {
		return v, errdefs.NotFound(fmt.Errorf("get %s: no such volume", name))
	}
	data, err := os.ReadFile(filepath.Join(e.volumesDir(), name, "volume.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return v, errdefs.NotFound(fmt.Errorf("get %s: no such volume", name))
	}
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("volume %s: %w", name, err)
	}
	return v, nil
}

// InspectVolume is docker volume inspect.
func (e *Engine) InspectVolume(name string) (Volume, error) { return e.volume(name) }

// Volumes is docker volume ls, by name.
func (e *Engine) Volumes() ([]Volume, error) {
	entries, err := os.ReadDir(e.volumesDir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Volume
	for _, d := range entries {
		if !d.IsDir() {
			continue
		}
		if v, err := e.volume(d.Name()); err == nil {
			out = append(out, v)
		}
	}
	return out, nil
}

// usersOf are the IDs of the containers (running or not) that mount the
// volume name.
func (e *Engine) usersOf(name string) ([]string, error) {
	list, err := e.containers.List()
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range list {
		for _, m := range c.Config.Mounts {
			if m.Type == "volume" && m.Name == name && !slices.Contains(ids, c.ID) {
				ids = append(ids, c.ID)
			}
		}
	}
	return ids, nil
}

// RemoveVolume is docker volume rm: refused while a container (running or
// not) uses it, with dockerd's message.
func (e *Engine) RemoveVolume(name string) error {
	unlock, err := e.lockVolumes()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := e.volume(name); err != nil {
		return err
	}
	users, err := e.usersOf(name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return errdefs.Conflict(fmt.Errorf("remove %s: volume is in use - [%s]", name, strings.Join(users, ", ")))
	}
	return os.RemoveAll(filepath.Join(e.volumesDir(), name))
}

// PruneVolumes is docker volume prune: with all, every volume no
// container uses; without, only the anonymous ones (labelled
// AnonymousLabel): docker volume prune without -a keeps named volumes
// since API 1.42. It returns their names.
func (e *Engine) PruneVolumes(all bool) ([]string, error) {
	vols, err := e.Volumes()
	if err != nil {
		return nil, err
	}
	var gone []string
	for _, v := range vols {
		if _, anonymous := v.Labels[AnonymousLabel]; !all && !anonymous {
			continue
		}
		if err := e.RemoveVolume(v.Name); err == nil {
			gone = append(gone, v.Name)
		} else if !errdefs.IsConflict(err) {
			return gone, err
		}
	}
	return gone, nil
}
