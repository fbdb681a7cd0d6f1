// Command gomodzip writes a Go module's release, as the Go module proxy will serve it once the version tag
// exists, into a GOPROXY folder: <module>/@v/{list,<version>.info,<version>.mod,<version>.zip}. The zip holds the
// module folder at a committed revision (`git archive`: only committed files, the tag's content), is made with
// golang.org/x/mod/zip (the proxy's own rules: no nested modules, no vendor/, size limits) and checked with
// zip.CheckZip. `GOPROXY=file://<folder>` then serves the module to any project before it is published.
//
//	go run . -repo ROOT -subdir sdks/go -revision HEAD -version v0.1.0 -out DIST/goproxy
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	repo := flag.String("repo", "", "repository root (a git work tree)")
	subdir := flag.String("subdir", "", "the module's folder inside the repository")
	revision := flag.String("revision", "HEAD", "the commit the version tag will point at")
	version := flag.String("version", "", "the module version, e.g. v0.1.0")
	out := flag.String("out", "", "GOPROXY folder to write into")
	flag.Parse()
	if err := run(*repo, *subdir, *revision, *version, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gomodzip:", err)
		os.Exit(1)
	}
}

func run(repo, subdir, revision, version, out string) error {
	if repo == "" || subdir == "" || version == "" || out == "" {
		return errors.New("-repo, -subdir, -version and -out are required")
	}
	goMod, err := git(repo, "show", revision+":"+filepath.ToSlash(filepath.Join(subdir, "go.mod")))
	if err != nil {
		return err
	}
	path := modfile.ModulePath(goMod)
	if path == "" {
		return fmt.Errorf("%s/go.mod at %s has no module line", subdir, revision)
	}
	m := module.Version{Path: path, Version: version}
	if err := module.Check(m.Path, m.Version); err != nil {
		return err
	}
	when, err := git(repo, "show", "-s", "--format=%cI", revision)
	if err != nil {
		return err
	}
	committed, err := time.Parse(time.RFC3339, strings.TrimSpace(string(when)))
	if err != nil {
		return err
	}
	escaped, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	zipPath := filepath.Join(dir, version+".zip")
	if err := writeZip(zipPath, m, repo, revision, subdir); err != nil {
		return err
	}
	checked, err := zip.CheckZip(m, zipPath)
	if err != nil {
		return err
	}
	if err := checked.Err(); err != nil {
		return err
	}
	info, err := json.Marshal(map[string]any{"Version": version, "Time": committed.UTC()})
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{version + ".mod": goMod, version + ".info": info, "list": []byte(version + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("gomodzip: %s@%s (%d files) -> %s\n", m.Path, m.Version, len(checked.Valid), zipPath)
	return nil
}

// writeZip zips the module folder as committed at revision (x/mod's CreateFromVCS needs a .git folder, which a
// git worktree does not have; `git archive` works in both).
func writeZip(zipPath string, m module.Version, repo, revision, subdir string) error {
	tree, err := os.MkdirTemp("", "gomodzip-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tree)
	tarball := filepath.Join(tree, "module.tar")
	if _, err := git(repo, "archive", "--format=tar", "-o", tarball, revision+":"+filepath.ToSlash(subdir)); err != nil {
		return err
	}
	folder := filepath.Join(tree, "module")
	if err := os.Mkdir(folder, 0o755); err != nil {
		return err
	}
	if output, err := exec.Command("tar", "-xf", tarball, "-C", folder).CombinedOutput(); err != nil {
		return fmt.Errorf("tar -xf: %v: %s", err, output)
	}
	file, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(file, m, folder); err != nil {
		file.Close()
		return err
	}
	return file.Close()
}

func git(repo string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	output, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return output, nil
}
