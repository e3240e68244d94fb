package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// writeWorkspace copies the module at root into dir and replaces the
// regions of step's exercises by their stubs (only exercise only's, when
// only is not empty). Everything else is the reference, so the later steps
// and the tests build on the learner's packages. It refuses a dir that
// exists and is not empty: that is a learner's work.
func writeWorkspace(root, dir, step, only string) ([]Region, error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s exists and is not empty: it may hold your work; remove it or choose another DIR", dir)
	}
	regions, err := findRegions(root)
	if err != nil {
		return nil, err
	}
	byFile := map[string][]Region{}
	var mine []Region
	for _, r := range regions {
		if r.Step() == step && (only == "" || r.ID == only) {
			byFile[r.File] = append(byFile[r.File], r)
			mine = append(mine, r)
		}
	}
	if len(mine) == 0 {
		return nil, fmt.Errorf("step %s has no exercises", step)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel != "." && skipDir(p, d.Name()) || p == absDir {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if rs := byFile[filepath.ToSlash(rel)]; rs != nil {
			if src, err = stubSource(rel, src, rs); err != nil {
				return fmt.Errorf("stub %s: %w", rel, err)
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), src, info.Mode().Perm())
	})
	if err != nil {
		return nil, err
	}
	// So that make check, run inside the workspace, checks it.
	mark := "A learner's workspace for step " + step + ", written by make exercise.\n"
	if err := os.WriteFile(filepath.Join(dir, workspaceMark), []byte(mark), 0o644); err != nil {
		return nil, err
	}
	return mine, nil
}

// workspaceMark is the file that marks a workspace's root.
const workspaceMark = ".exercise-workspace"

// skipDir leaves out what is not the course's source: version control,
// build output, other workspaces and nested modules.
func skipDir(path, name string) bool {
	if strings.HasPrefix(name, ".") || name == "bin" || name == "workspace" {
		return true
	}
	_, err := os.Stat(filepath.Join(path, "go.mod"))
	return err == nil
}

// moduleRoot finds the directory of the minidocker go.mod at or above dir.
func moduleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module minidocker\n") {
			return dir, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the minidocker module (no go.mod saying \"module minidocker\")")
		}
		dir = parent
	}
}
