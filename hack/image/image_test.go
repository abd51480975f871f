package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imageDir is what 'make image' wrote; IMAGE_DIR overrides it.
func imageDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IMAGE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "bin", "image")
	}
	if _, err := os.Stat(filepath.Join(dir, "oci", "index.json")); err != nil {
		t.Fatalf("no image in %s: run 'make image' first (make test-image does): %v", dir, err)
	}
	return dir
}

// readIndex reads the image index back from the OCI layout.
func readIndex(t *testing.T, dir string) (v1.ImageIndex, *v1.Descriptor) {
	t.Helper()
	p, err := layout.FromPath(filepath.Join(dir, "oci"))
	must(t, err)
	outer, err := p.ImageIndex()
	must(t, err)
	m, err := outer.IndexManifest()
	must(t, err)
	if len(m.Manifests) != 1 {
		t.Fatalf("index.json lists %d entries, want the one image index", len(m.Manifests))
	}
	desc := m.Manifests[0]
	idx, err := outer.ImageIndex(desc.Digest)
	must(t, err)
	return idx, &desc
}

// TestImage reads the image 'make image' built back from its OCI layout and
// checks what a registry and a kubelet will see: one index for linux/amd64 and
// linux/arm64, each image one layer holding only the static manager, running
// as 65532 with /manager as its entrypoint and the OCI labels set. The binary
// for this machine's architecture runs (--help) from the unpacked layer alone.
func TestImage(t *testing.T) {
	dir := imageDir(t)
	idx, desc := readIndex(t, dir)
	if desc.MediaType != types.OCIImageIndex {
		t.Errorf("media type %s, want an OCI image index", desc.MediaType)
	}
	digest, err := os.ReadFile(filepath.Join(dir, "digest"))
	must(t, err)
	if got := strings.TrimSpace(string(digest)); got != desc.Digest.String() {
		t.Errorf("%s/digest says %s, the layout holds %s", dir, got, desc.Digest)
	}
	version := desc.Annotations["org.opencontainers.image.ref.name"]
	if version == "" || !strings.HasSuffix(desc.Annotations["io.containerd.image.name"], ":"+version) {
		t.Errorf("the layout names the image %v, want a tag and a repository:tag", desc.Annotations)
	}

	im, err := idx.IndexManifest()
	must(t, err)
	for _, k := range []string{"source", "version", "revision", "created"} {
		if im.Annotations["org.opencontainers.image."+k] == "" {
			t.Errorf("the index has no org.opencontainers.image.%s annotation", k)
		}
	}
	if im.Annotations["org.opencontainers.image.version"] != version {
		t.Errorf("version annotation %q, layout tag %q", im.Annotations["org.opencontainers.image.version"], version)
	}
	var platforms []string
	for _, m := range im.Manifests {
		platforms = append(platforms, m.Platform.String())
		if m.MediaType != types.OCIManifestSchema1 {
			t.Errorf("%s: media type %s, want an OCI manifest", m.Platform, m.MediaType)
		}
	}
	if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(platforms, want) {
		t.Fatalf("platforms %v, want %v", platforms, want)
	}

	for _, m := range im.Manifests {
		t.Run(m.Platform.String(), func(t *testing.T) {
			img, err := idx.Image(m.Digest)
			must(t, err)
			cf, err := img.ConfigFile()
			must(t, err)
			if cf.OS != m.Platform.OS || cf.Architecture != m.Platform.Architecture {
				t.Errorf("config says %s/%s", cf.OS, cf.Architecture)
			}
			if cf.Config.User != "65532:65532" {
				t.Errorf("user %q, want 65532:65532", cf.Config.User)
			}
			if !slices.Equal(cf.Config.Entrypoint, []string{"/manager"}) || len(cf.Config.Cmd) != 0 {
				t.Errorf("entrypoint %q cmd %q, want [/manager] and none", cf.Config.Entrypoint, cf.Config.Cmd)
			}
			for k, v := range im.Annotations {
				if cf.Config.Labels[k] != v {
					t.Errorf("label %s = %q, the index says %q", k, cf.Config.Labels[k], v)
				}
			}
			created, err := time.Parse(time.RFC3339, im.Annotations["org.opencontainers.image.created"])
			must(t, err)
			if !cf.Created.Equal(created) {
				t.Errorf("config created %s, label %s", cf.Created.Time, created)
			}

			layers, err := img.Layers()
			must(t, err)
			if len(layers) != 1 {
				t.Fatalf("%d layers, want 1 (an empty base and the manager)", len(layers))
			}
			rootfs := t.TempDir()
			must(t, os.Chmod(rootfs, 0o755))
			hdrs := unpack(t, layers[0], rootfs)
			if len(hdrs) != 1 || hdrs[0].Name != "manager" {
				t.Fatalf("the layer holds %v, want only manager", names(hdrs))
			}
			if h := hdrs[0]; h.Mode != 0o755 || h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(created) {
				t.Errorf("manager: mode %o owner %d:%d time %s; want 755, root, the commit's time %s", h.Mode, h.Uid, h.Gid, h.ModTime, created)
			}
			binary := filepath.Join(rootfs, "manager")
			checkStatic(t, binary, m.Platform.Architecture)
			if m.Platform.Architecture == runtime.GOARCH {
				runHelp(t, rootfs)
			}
		})
	}
}

// checkStatic checks the binary's build: for arch, without cgo (so no dynamic
// loader), -trimpath, and with the compiled-in CA roots.
func checkStatic(t *testing.T, binary, arch string) {
	t.Helper()
	bi, err := buildinfo.ReadFile(binary)
	must(t, err)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for k, want := range map[string]string{"GOOS": "linux", "GOARCH": arch, "CGO_ENABLED": "0", "-trimpath": "true"} {
		if settings[k] != want {
			t.Errorf("build setting %s = %q, want %q", k, settings[k], want)
		}
	}
	if !slices.ContainsFunc(bi.Deps, func(m *debug.Module) bool { return m.Path == "golang.org/x/crypto/x509roots/fallback" }) {
		t.Error("the manager does not compile in golang.org/x/crypto/x509roots/fallback: TLS to the vendors would find no CA roots in the image")
	}
	f, err := elf.Open(binary)
	must(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the manager asks for a dynamic loader; the image has none")
		}
	}
}

// runHelp runs /manager --help with the unpacked layer as its root directory
// and UID 65532 when the test may (as root), so the binary is shown to need
// nothing but the layer; otherwise it runs the binary in place.
func runHelp(t *testing.T, rootfs string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, "/manager", "--help")
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: rootfs, Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
		cmd.Dir = "/"
		cmd.Env = []string{}
	} else {
		t.Log("not root: running the binary in place, without chroot and UID 65532")
		cmd = exec.CommandContext(ctx, filepath.Join(rootfs, "manager"), "--help")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("manager --help: %v\n%s", err, out)
	}
	for _, flag := range []string{"-metrics-bind-address", "-leader-elect", "-watch-namespaces"} {
		if !bytes.Contains(out, []byte(flag)) {
			t.Errorf("manager --help does not list %s:\n%s", flag, out)
		}
	}
}

// TestArchive checks that the tarball is the layout: the same files, byte
// for byte, with fixed owners and times.
func TestArchive(t *testing.T) {
	dir := imageDir(t)
	f, err := os.Open(filepath.Join(dir, "chatgroup-operator.tar"))
	must(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	var files []string
	var mtime time.Time
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		must(t, err)
		if mtime.IsZero() {
			mtime = h.ModTime
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(mtime) {
			t.Errorf("%s: owner %d:%d time %s; want root and one fixed time", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		files = append(files, h.Name)
		data, err := io.ReadAll(tr)
		must(t, err)
		want, err := os.ReadFile(filepath.Join(dir, "oci", filepath.FromSlash(h.Name)))
		must(t, err)
		if !bytes.Equal(data, want) {
			t.Errorf("%s differs from the layout's", h.Name)
		}
	}
	for _, want := range []string{"oci-layout", "index.json"} {
		if !slices.Contains(files, want) {
			t.Errorf("the archive has no %s: %v", want, files)
		}
	}
	if !slices.IsSorted(files) {
		t.Errorf("entries are not sorted: %v", files)
	}
}

// TestReproducible assembles the image again from the binaries in it and the
// metadata on it, twice, and expects the digest 'make image' wrote: the
// assembly adds nothing of the time or the machine it runs on. (The binaries
// themselves are reproducible through go build -trimpath with a fixed
// environment; see goBuild.)
func TestReproducible(t *testing.T) {
	dir := imageDir(t)
	idx, desc := readIndex(t, dir)
	im, err := idx.IndexManifest()
	must(t, err)
	created, err := time.Parse(time.RFC3339, im.Annotations["org.opencontainers.image.created"])
	must(t, err)
	meta := Metadata{
		Version:  im.Annotations["org.opencontainers.image.version"],
		Revision: im.Annotations["org.opencontainers.image.revision"],
		Source:   im.Annotations["org.opencontainers.image.source"],
		Created:  created,
	}
	binaries := map[string]string{}
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		must(t, err)
		layers, err := img.Layers()
		must(t, err)
		d := t.TempDir()
		unpack(t, layers[0], d)
		binaries[m.Platform.Architecture] = filepath.Join(d, "manager")
	}
	for i := range 2 {
		again, err := newIndex(meta, binaries)
		must(t, err)
		got, err := again.Digest()
		must(t, err)
		if got != desc.Digest {
			t.Errorf("assembly %d: digest %s, make image wrote %s", i+1, got, desc.Digest)
		}
		if i == 0 {
			time.Sleep(1100 * time.Millisecond) // so that a field from the clock would differ
		}
	}
}

// TestPush pushes the layout to a registry on loopback, as 'crane push
// bin/image/oci <ref>' does, and pulls it back by tag: a registry keeps the
// index's digest, so the image can be pinned by it wherever it is pushed.
func TestPush(t *testing.T) {
	dir := imageDir(t)
	idx, desc := readIndex(t, dir)
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	ref, err := name.ParseReference(strings.TrimPrefix(reg.URL, "http://") + "/team/chatgroup-operator:" + desc.Annotations["org.opencontainers.image.ref.name"])
	must(t, err)
	must(t, remote.WriteIndex(ref, idx))
	pulled, err := remote.Index(ref)
	must(t, err)
	got, err := pulled.Digest()
	must(t, err)
	if got != desc.Digest {
		t.Errorf("the registry holds %s, the layout %s", got, desc.Digest)
	}
	img, err := remote.Image(ref, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"}))
	must(t, err)
	cf, err := img.ConfigFile()
	must(t, err)
	if cf.Architecture != "arm64" {
		t.Errorf("pulled %s for linux/arm64", cf.Architecture)
	}
}

// unpack extracts a layer into dir and returns its headers.
func unpack(t *testing.T, l v1.Layer, dir string) []*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	must(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var hdrs []*tar.Header
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return hdrs
		}
		must(t, err)
		hdrs = append(hdrs, h)
		if h.Typeflag != tar.TypeReg || strings.Contains(h.Name, "..") {
			continue
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode))
		must(t, err)
		_, err = io.Copy(f, tr)
		must(t, errors.Join(err, f.Close()))
	}
}

func names(hdrs []*tar.Header) []string {
	var n []string
	for _, h := range hdrs {
		n = append(n, fmt.Sprintf("%s (%c)", h.Name, h.Typeflag))
	}
	return n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
