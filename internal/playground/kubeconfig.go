package playground

import (
	"errors"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// WriteKubeconfig writes a kubeconfig for cfg (an envtest admin: client
// certificate and CA inline) to path, with one context named name, so that
// kubectl and the manager reach the local API server as they would any cluster.
// A non-empty impersonate makes every request act as that user instead, e.g. the
// operator's ServiceAccount, so that only its RBAC applies.
func WriteKubeconfig(cfg *rest.Config, name, path, impersonate string) error {
	if len(cfg.CertData) == 0 || len(cfg.KeyData) == 0 {
		return errors.New("the API server config has no client certificate to write into a kubeconfig")
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters[name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Impersonate: impersonate}
	kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: "default"}
	kc.CurrentContext = name
	return clientcmd.WriteToFile(*kc, path)
}
