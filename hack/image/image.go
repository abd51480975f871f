package main

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Fixed parts of the image.
const (
	// entrypoint is where the manager binary sits in the image.
	entrypoint = "/manager"
	// user is the non-root UID:GID the manager runs as (config/manager sets
	// runAsNonRoot; 65532 is the usual "nonroot" of distroless images).
	user = "65532:65532"
)

// platforms are the image's, in index order.
var platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64"},
}

// Metadata describes a build; every field ends up in the image, so the same
// metadata and binaries give the same digest.
type Metadata struct {
	// Version is the release (org.opencontainers.image.version), e.g. 0.1.0.
	Version string
	// Revision is the source commit (org.opencontainers.image.revision).
	Revision string
	// Source is the repository URL (org.opencontainers.image.source).
	Source string
	// Created is the commit's time: the config's created time, the layer's
	// file times and org.opencontainers.image.created, so that a rebuild of
	// the same commit changes nothing.
	Created time.Time
}

// annotations are the OCI labels of each image and the annotations of the index.
func (m Metadata) annotations() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":       "chatgroup-operator",
		"org.opencontainers.image.description": "Manages vendor chat groups declaratively from ChatGroup objects",
		"org.opencontainers.image.source":      m.Source,
		"org.opencontainers.image.version":     m.Version,
		"org.opencontainers.image.revision":    m.Revision,
		"org.opencontainers.image.created":     m.Created.UTC().Format(time.RFC3339),
	}
}

// newIndex builds the multi-platform image index: for each platform an image
// of one layer holding the manager binary binaries[platform.Architecture].
func newIndex(m Metadata, binaries map[string]string) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		img, err := newImage(m, p, binaries[p.Architecture])
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", p.OS, p.Architecture, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &p},
		})
	}
	return mutate.Annotations(idx, m.annotations()).(v1.ImageIndex), nil
}

// newImage builds the image of one platform.
func newImage(m Metadata, p v1.Platform, binary string) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := singleFileTar(entrypoint[1:], data, m.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(
		func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil },
		tarball.WithMediaType(types.OCILayer),
	)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.ConfigFile(img, &v1.ConfigFile{
		Architecture: p.Architecture,
		OS:           p.OS,
		Created:      v1.Time{Time: m.Created},
		Config: v1.Config{
			User:       user,
			Entrypoint: []string{entrypoint},
			WorkingDir: "/",
			Labels:     m.annotations(),
		},
		RootFS: v1.RootFS{Type: "layers"},
	})
	if err != nil {
		return nil, err
	}
	return mutate.Append(img, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: m.Created},
			CreatedBy: "hack/image: COPY manager " + entrypoint,
		},
		MediaType: types.OCILayer,
	})
}

// singleFileTar returns a tar stream holding one executable file owned by
// root, with a fixed time, so the layer is the same wherever it is built.
func singleFileTar(name string, data []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o755,
		Size:     int64(len(data)),
		ModTime:  mtime.UTC(),
		Format:   tar.FormatPAX,
	}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeLayout writes idx as an OCI image layout in dir (replacing what is
// there), named by refName and, for containerd and docker load, by image.
func writeLayout(dir string, idx v1.ImageIndex, refName, image string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": refName,
		"io.containerd.image.name":          image,
	}))
}

// writeArchive writes the layout in dir as one tar file (an OCI archive, what
// skopeo calls oci-archive) with sorted entries, fixed times and root owner,
// so that it is as reproducible as the layout.
func writeArchive(dir, path string, mtime time.Time) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		return err
	}
	slices.Sort(names)
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, name := range names {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		h := &tar.Header{Name: name, ModTime: mtime.UTC(), Format: tar.FormatPAX, Mode: 0o644, Typeflag: tar.TypeReg, Size: fi.Size()}
		if fi.IsDir() {
			h.Name, h.Mode, h.Typeflag, h.Size = name+"/", 0o755, tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if !fi.IsDir() {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return err
			}
			if _, err := tw.Write(data); err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
