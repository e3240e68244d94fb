package cli

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"minidocker/final/engine"
)

// parseMount reads one --mount value as the docker CLI does, with its
// messages: comma-separated key=value fields (CSV, so a field may be
// quoted), type=volume when no type is given. What only the daemon checks
// (a bind's source, the target's rules) the engine checks at create.
//
//	type=bind,source=/h,target=/c,readonly,bind-propagation=rshared
//	type=volume,src=NAME,dst=/c,volume-nocopy      (no source: anonymous)
//	type=tmpfs,destination=/c,tmpfs-size=64m,tmpfs-mode=1777
func parseMount(value string) (engine.MountSpec, error) {
	fields, err := csv.NewReader(strings.NewReader(value)).Read()
	if err != nil {
		return engine.MountSpec{}, err
	}
	m := engine.MountSpec{Type: "volume"}
	var bindOpts, volumeOpts, tmpfsOpts bool
	for _, field := range fields {
		key, val, ok := strings.Cut(field, "=")
		if !ok {
			switch key {
			case "readonly", "ro":
				m.ReadOnly = true
			case "volume-nocopy":
				m.NoCopy, volumeOpts = true, true
			default:
				return m, fmt.Errorf("invalid field '%s' must be a key=value pair", field)
			}
			continue
		}
		switch key {
		case "type":
			m.Type = strings.ToLower(val)
		case "source", "src":
			m.Source = val
			if strings.HasPrefix(val, "./") || val == "." {
				if abs, err := filepath.Abs(val); err == nil {
					m.Source = abs
				}
			}
		case "target", "dst", "destination":
			m.Target = val
		case "readonly", "ro":
			if m.ReadOnly, err = strconv.ParseBool(val); err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
		case "bind-propagation":
			m.Propagation, bindOpts = strings.ToLower(val), true
		case "volume-nocopy":
			if m.NoCopy, err = strconv.ParseBool(val); err != nil {
				return m, fmt.Errorf("invalid value for volume-nocopy: %s", val)
			}
			volumeOpts = true
		case "tmpfs-size":
			if m.TmpfsSize, err = engine.ParseSize(val); err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			tmpfsOpts = true
		case "tmpfs-mode":
			mode, err := strconv.ParseUint(val, 8, 32)
			if err != nil {
				return m, fmt.Errorf("invalid value for %s: %s", key, val)
			}
			m.TmpfsMode, tmpfsOpts = fs.FileMode(mode), true
		default:
			return m, fmt.Errorf("unexpected key '%s' in '%s'", key, field)
		}
	}
	switch {
	case m.Type == "":
		return m, errors.New("type is required")
	case m.Target == "":
		return m, errors.New("target is required")
	case volumeOpts && m.Type != "volume":
		return m, fmt.Errorf("cannot mix 'volume-*' options with mount type '%s'", m.Type)
	case bindOpts && m.Type != "bind":
		return m, fmt.Errorf("cannot mix 'bind-*' options with mount type '%s'", m.Type)
	case tmpfsOpts && m.Type != "tmpfs":
		return m, fmt.Errorf("cannot mix 'tmpfs-*' options with mount type '%s'", m.Type)
	}
	return m, nil
}

// parseTmpfs reads one --tmpfs value, PATH[:OPTIONS], into tmpfs (path ->
// options); the engine checks both.
func parseTmpfs(value string, tmpfs map[string]string) {
	path, options, _ := strings.Cut(value, ":")
	tmpfs[path] = options
}
