// Command kubectl-chatgroup is the chatgroup operator's kubectl plugin: put it
// on PATH and run 'kubectl chatgroup --help'.
package main

import (
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/chatgroup-operator/chatgroup-operator/internal/plugin"
)

func main() {
	os.Exit(plugin.Main(os.Args[1:], genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
