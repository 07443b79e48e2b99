package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// process is one child process of the benchmark, in a process group of its
// own so that its children (ffmpeg) end with it.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan error
}

// start runs bin with args, its output in logDir/name.log.
func start(logDir, name, bin string, args, env []string) (*process, error) {
	out, err := os.Create(filepath.Join(logDir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); out.Close() }()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has ended, and how (the result is
// put back for the next look).
func (p *process) exited() (bool, error) {
	select {
	case err := <-p.done:
		p.done <- err
		return true, err
	default:
		return false, nil
	}
}

// stop ends the process: SIGTERM, then SIGKILL to its group after grace.
func (p *process) stop(grace time.Duration) {
	if ok, _ := p.exited(); ok {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-p.done:
		p.done <- err
	case <-t.C:
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		p.done <- <-p.done
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM) // a child left behind
}

// freePort returns a loopback port free now on network ("tcp" or "udp").
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePorts returns n ports free on network, or the first error.
func freePorts(network string, n int) ([]int, error) {
	out := make([]int, n)
	for i := range out {
		p, err := freePort(network)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}
