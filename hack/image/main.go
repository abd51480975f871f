// Command image builds the operator's container image without a container
// daemon ('make image'): the manager, built static (CGO_ENABLED=0, -trimpath)
// for linux/amd64 and linux/arm64, each alone on an empty base as UID 65532,
// in one OCI image index. The image is reproducible: file and config times are
// the commit's, so the same commit built with the same Go gives the same
// digest. It writes, below -out:
//
//	oci/                      the index as an OCI image layout (crane push --index, skopeo copy oci:)
//	chatgroup-operator.tar    the same layout as one tar file (skopeo copy oci-archive:, docker load, kind load image-archive)
//	digest                    the index's digest, for pinning image@sha256:...
//	manager-linux-<arch>      the binaries in the image
//
// TLS to the vendor APIs needs no CA files in the image: main.go imports
// golang.org/x/crypto/x509roots/fallback, which Go uses when the system has no
// roots.
//
// It is a module of its own so that go-containerregistry stays out of the
// operator's dependencies. Run it from this directory (make image does).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	var (
		root        = flag.String("root", "../..", "The repository root, where the manager's main.go is.")
		out         = flag.String("out", "../../bin/image", "The directory to write the image to.")
		repo        = flag.String("repository", "chatgroup-operator", "The image's repository, named in the archive for docker load and kind.")
		created     = flag.String("created", "0", "The commit's time in Unix seconds (SOURCE_DATE_EPOCH).")
		skipGoBuild = flag.Bool("skip-build", false, "Use the manager-linux-<arch> binaries already in -out.")
		m           Metadata
	)
	flag.StringVar(&m.Version, "version", "dev", "The version: the image's tag and org.opencontainers.image.version.")
	flag.StringVar(&m.Revision, "revision", "unknown", "The commit: org.opencontainers.image.revision.")
	flag.StringVar(&m.Source, "source", "https://github.com/chatgroup-operator/chatgroup-operator", "The repository URL: org.opencontainers.image.source.")
	flag.Parse()

	secs, err := strconv.ParseInt(*created, 10, 64)
	if err != nil {
		fail(fmt.Errorf("-created: %w", err))
	}
	m.Created = time.Unix(secs, 0).UTC()
	if err := run(*root, *out, *repo, m, *skipGoBuild); err != nil {
		fail(err)
	}
}

func run(root, out, repo string, m Metadata, skipGoBuild bool) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	out, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	binaries := map[string]string{}
	for _, p := range platforms {
		binaries[p.Architecture] = filepath.Join(out, "manager-linux-"+p.Architecture)
		if skipGoBuild {
			continue
		}
		if err := goBuild(root, p.Architecture, binaries[p.Architecture]); err != nil {
			return err
		}
	}
	idx, err := newIndex(m, binaries)
	if err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	ref := repo + ":" + m.Version
	if err := writeLayout(filepath.Join(out, "oci"), idx, m.Version, ref); err != nil {
		return fmt.Errorf("write the OCI layout: %w", err)
	}
	archive := filepath.Join(out, "chatgroup-operator.tar")
	if err := writeArchive(filepath.Join(out, "oci"), archive, m.Created); err != nil {
		return fmt.Errorf("write the archive: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "digest"), []byte(digest.String()+"\n"), 0o644); err != nil {
		return err
	}
	fi, err := os.Stat(archive)
	if err != nil {
		return err
	}
	fmt.Printf("Built %s (linux/amd64, linux/arm64), index %s\n  %s/oci\n  %s (%.1f MiB)\n",
		ref, digest, out, archive, float64(fi.Size())/(1<<20))
	return nil
}

// goBuild builds the manager for linux/arch into path: static, without local
// paths or VCS stamps, with the environment pinned so that nothing of the
// build machine but the Go version reaches the binary.
func goBuild(root, arch, path string) error {
	fmt.Printf("Building the manager for linux/%s\n", arch)
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", path, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch, "GOAMD64=v1", "GOARM64=v8.0",
		"GOFLAGS=", "GOEXPERIMENT=",
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build for linux/%s: %w", arch, err)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "image:", err)
	os.Exit(1)
}
