// Package devcluster is the machinery behind `vigil dev`: a real Kubernetes
// control plane on this machine and a pod runner that stands in for the
// kubelet and the scheduler, with no container runtime and no Docker.
//
// # Control plane
//
// Start runs etcd and kube-apiserver (through controller-runtime's envtest,
// with the CRDs of Options.CRDDirectoryPaths installed) and
// kube-controller-manager, all built from Go modules by hack/setup-envtest.sh
// (Options.AssetsDir, see testenv.AssetsDir):
//
//	cp, err := devcluster.Start(ctx, devcluster.Options{
//		StateDir:          ".dev",
//		AssetsDir:         assets,
//		CRDDirectoryPaths: []string{"config/crd/bases"},
//		Logger:            log,
//	})
//	defer cp.Stop()
//	cfg := cp.Config()      // cluster-admin *rest.Config
//	_ = cp.KubeconfigPath   // .dev/kubeconfig, for kubectl
//
// What lives under StateDir:
//
//	etcd/        the cluster's data; kept across runs, so a restarted
//	             `vigil dev` finds its objects again (Options.Fresh discards it)
//	pki/         CA, serving and client certificates, rewritten on every start
//	kubeconfig   admin (system:masters) kubeconfig referring to pki/ files
//	logs/        etcd.log, kube-apiserver.log, kube-controller-manager.log
//	run/         processes.json: the control plane's process ids, so that a
//	             start after a crash stops the processes the crash left behind
//
// The API server signs ServiceAccount tokens (TokenRequest with any audience,
// validated by TokenReview for that audience). Its ServiceAccount admission
// plugin is off, as in envtest, so pods get no automatic token volume; the
// serviceaccount controller still creates each namespace's "default"
// ServiceAccount. kube-controller-manager runs DefaultControllers
// (StatefulSets, Deployments, Jobs, garbage collection, namespace deletion,
// PVC protection, ...) as system:masters without leader election. Its health
// port is a free loopback port. Service ClusterIPs are allocated but nothing
// routes them: pods reach each other, and the host, by pod IP.
//
// # Pod runner
//
// Runner registers a Node (DefaultNodeName, Ready, with a Lease renewed every
// 10s), binds the pending pods whose images all map to a local binary
// (RunnerOptions.Images), and runs each container as a local process:
//
//	runner, err := devcluster.NewRunner(devcluster.RunnerOptions{
//		Config:   cp.Config(),
//		StateDir: ".dev",
//		Images: map[string]string{
//			"ghcr.io/vigil-operator/vigil:dev": vigilBinary,
//			"vigil:dev":                        vigilBinary,
//		},
//		Logger: log,
//	})
//	err = mgr.Add(runner) // a controller-runtime Runnable, on every replica
//	// or standalone: go runner.Start(ctx); <-runner.Started()
//
// Start blocks until its context ends, then stops every pod process and
// returns; stop the runner before the control plane. Pods of other images
// stay Pending with PodScheduled=False and a reason. For each pod:
//
//   - container.command[0] is replaced by the image's binary; $(VAR) in
//     command, args and env values expands from the container's environment
//     (value, fieldRef such as status.podIP, resourceFieldRef, ConfigMap and
//     Secret keys, envFrom).
//   - the pod gets its own IP from RunnerOptions.PodCIDR (127.1.0.0/16, all
//     loopback on Linux), reported as status.podIP and kept across restarts.
//   - volumes are folders: StateDir/pods/<ns>/<pod>/volumes/<name> for
//     emptyDir, configMap, secret, downwardAPI and projected volumes (written
//     atomically, refreshed when their sources change; projected
//     ServiceAccount tokens come from the TokenRequest API, bound to the pod,
//     and are renewed at 80% of their lifetime), StateDir/pvcs/<ns>/<claim>
//     for a persistentVolumeClaim (it outlives the pod and goes with the
//     claim), and hostPath as itself. Processes cannot mount, so every
//     argument, "--flag=value" value and env value that is a path inside a
//     mountPath is rewritten to the folder (longest mountPath first).
//   - the process runs in StateDir/pods/<ns>/<pod> with TMPDIR set to the
//     volume mounted at /tmp (if any), in its own process group, killed by
//     the kernel if vigil dev dies; stdout and stderr are appended to
//     StateDir/pods/<ns>/<pod>/<container>.log, which survives the pod.
//   - status follows the kubelet: phase, conditions (PodScheduled,
//     PodReadyToStartContainers, Initialized, ContainersReady, Ready),
//     container states, restart counts. httpGet, tcpSocket and exec probes
//     run on the pod IP; readiness drives Ready, a failed liveness or startup
//     probe restarts the process. Exited processes restart per restartPolicy
//     with exponential backoff capped at RunnerOptions.MaxRestartBackoff.
//     Init containers run in order; sidecars (init containers with
//     restartPolicy Always) run alongside.
//   - deletion: SIGTERM to the process group (after a preStop hook), SIGKILL
//     after the grace period, then the pod is deleted with grace period 0
//     and its folders, except logs and claims, are removed.
//
// Not stood in for: image pulls, resource limits, security contexts,
// readOnly mounts, postStart hooks, gRPC probes (treated as passing),
// `kubectl logs` and `kubectl exec` (read the .log files instead), and
// processes that listen on all addresses instead of their pod IP (two such
// pods collide on one port).
package devcluster
