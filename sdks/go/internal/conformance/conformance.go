// Package conformance locates the shared public test vectors (<repo root>/../shared/conformance)
// for tests, which skip cleanly when the folder is absent.
package conformance

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Path returns the absolute path of rel inside the conformance folder, or skips the test with the
// reason when the file is not there.
func Path(t testing.TB, rel string) string {
	t.Helper()
	_, here, _, ok := runtime.Caller(0)
	if !ok {
		t.Skip("conformance vectors: cannot locate the source tree")
	}
	// here = <repo>/sdks/go/internal/conformance/conformance.go
	repo := filepath.Join(filepath.Dir(here), "..", "..", "..", "..")
	path := filepath.Join(repo, "..", "shared", "conformance", rel)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("conformance vectors absent (%s): %v", path, err)
	}
	return path
}
