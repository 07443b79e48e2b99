package gbsim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"
)

// udpReadBuffer bounds one SIP datagram from the platform. It is held by
// every idle device, so it is kept small: platform requests are a few
// hundred bytes and UDP SIP above the MTU is broken anyway.
const udpReadBuffer = 4096

// requestHandler handles a request that opened a server transaction; tx is
// nil for an ACK to a 2xx, which belongs to the dialog, not a transaction.
type requestHandler func(req *sip.Request, tx *sip.ServerTx)

// endpoint is one device's SIP transport: one UDP socket or one TCP
// connection, with sipgo's transaction state machines on top. It implements
// sip.Connection for those transactions. Its reader goroutine ends in Close;
// request handlers run in goroutines of the simulator (spawn).
type endpoint struct {
	network string // "UDP" or "TCP", as in Via
	server  string // platform host:port
	parser  *sip.Parser
	log     *slog.Logger
	handler requestHandler
	spawn   func(func()) bool

	udp     *net.UDPConn
	srvAddr *net.UDPAddr
	tcp     net.Conn
	wmu     sync.Mutex // serialises TCP writes
	local   *net.UDPAddr

	mu       sync.Mutex
	clients  map[string]*sip.ClientTx
	servers  map[string]*sip.ServerTx
	closed   atomic.Bool
	done     chan struct{}
	wg       sync.WaitGroup // the reader and the goroutines it starts
	txLogger *slog.Logger
}

// newEndpoint opens the device's socket (UDP) or connection (TCP) from
// localIP and starts reading. Requests go to h in goroutines started with
// spawn.
func newEndpoint(network, localIP, server string, parser *sip.Parser, log *slog.Logger, h requestHandler,
	spawn func(func()) bool,
) (*endpoint, error) {
	e := &endpoint{
		network:  network,
		server:   server,
		parser:   parser,
		log:      log,
		handler:  h,
		spawn:    spawn,
		clients:  map[string]*sip.ClientTx{},
		servers:  map[string]*sip.ServerTx{},
		done:     make(chan struct{}),
		txLogger: slog.New(slog.DiscardHandler),
	}
	switch network {
	case "UDP":
		srv, err := net.ResolveUDPAddr("udp", server)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", server, err)
		}
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(localIP)})
		if err != nil {
			return nil, fmt.Errorf("listen udp: %w", err)
		}
		e.udp, e.srvAddr = c, srv
		e.local = c.LocalAddr().(*net.UDPAddr)
		e.wg.Add(1)
		go e.readUDP()
	case "TCP":
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", server)
		if err != nil {
			return nil, fmt.Errorf("dial tcp %s: %w", server, err)
		}
		e.tcp = c
		la := c.LocalAddr().(*net.TCPAddr)
		e.local = &net.UDPAddr{IP: la.IP, Port: la.Port}
		e.wg.Add(1)
		go e.readTCP()
	default:
		return nil, fmt.Errorf("%w: transport %q", ErrConfig, network)
	}
	return e, nil
}

// LocalAddr implements sip.Connection.
func (e *endpoint) LocalAddr() net.Addr { return e.local }

// Ref implements sip.Connection; the endpoint outlives its transactions.
func (e *endpoint) Ref(int) int { return 1 }

// TryClose implements sip.Connection; transactions never close the socket.
func (e *endpoint) TryClose() (int, error) { return 1, nil }

// Close implements sip.Connection: it closes the socket, ends the
// endpoint's transactions and waits for its reader.
func (e *endpoint) Close() error {
	err := e.shutdown()
	e.mu.Lock()
	txs := make([]interface{ Terminate() }, 0, len(e.clients)+len(e.servers))
	for _, tx := range e.clients {
		txs = append(txs, tx)
	}
	for _, tx := range e.servers {
		txs = append(txs, tx)
	}
	e.mu.Unlock()
	// Terminating stops the transactions' retransmission timers and
	// unblocks a tx.Receive waiting for a requester that has gone.
	for _, tx := range txs {
		tx.Terminate()
	}
	e.wg.Wait()
	return err
}

// shutdown closes the socket without waiting; the reader calls it when the
// platform closes the connection.
func (e *endpoint) shutdown() error {
	if e.closed.Swap(true) {
		return nil
	}
	close(e.done)
	if e.udp != nil {
		return e.udp.Close()
	}
	return e.tcp.Close()
}

// Done is closed when the endpoint is closed.
func (e *endpoint) Done() <-chan struct{} { return e.done }

// WriteMsg implements sip.Connection: requests go to the platform, responses
// to the source of their request (UDP) or down the connection (TCP).
func (e *endpoint) WriteMsg(msg sip.Message) error {
	if e.closed.Load() {
		return ErrClosed
	}
	b := []byte(msg.String())
	if e.tcp != nil {
		e.wmu.Lock()
		defer e.wmu.Unlock()
		_ = e.tcp.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, err := e.tcp.Write(b)
		return err
	}
	dst := e.srvAddr
	// Requests always go to the platform (even in dialogs: the Contact a
	// platform announces is often unreachable behind NAT); responses go back
	// to the request's source.
	if _, isRes := msg.(*sip.Response); isRes && msg.Destination() != "" {
		d := msg.Destination()
		a, err := net.ResolveUDPAddr("udp", d)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", d, err)
		}
		dst = a
	}
	_, err := e.udp.WriteToUDP(b, dst)
	return err
}

func (e *endpoint) readUDP() {
	defer e.wg.Done()
	buf := make([]byte, udpReadBuffer)
	for {
		n, from, err := e.udp.ReadFromUDP(buf)
		if err != nil {
			if !e.closed.Load() {
				e.log.Warn("sip read", "err", err)
				_ = e.shutdown()
			}
			return
		}
		msg, err := e.parser.ParseSIP(buf[:n])
		if err != nil {
			e.log.Debug("sip parse", "err", err, "remote", from)
			continue
		}
		msg.SetSource(from.String())
		msg.SetTransport(e.network)
		e.dispatch(msg)
	}
}

func (e *endpoint) readTCP() {
	defer e.wg.Done()
	stream := e.parser.NewSIPStream()
	defer stream.Close()
	r := bufio.NewReaderSize(e.tcp, 2048)
	buf := make([]byte, 2048)
	src := e.tcp.RemoteAddr().String()
	for {
		n, err := r.Read(buf)
		if n > 0 {
			perr := stream.ParseSIPStream(buf[:n], func(msg sip.Message) {
				msg.SetSource(src)
				msg.SetTransport(e.network)
				e.dispatch(msg)
			})
			if perr != nil && !errors.Is(perr, sip.ErrParseSipPartial) {
				e.log.Warn("sip stream parse; resetting", "err", perr)
				stream.Reset()
			}
		}
		if err != nil {
			if !e.closed.Load() {
				if !errors.Is(err, io.EOF) {
					e.log.Warn("sip read", "err", err)
				} else {
					e.log.Warn("platform closed the SIP connection")
				}
				_ = e.shutdown()
			}
			return
		}
	}
}

func (e *endpoint) dispatch(msg sip.Message) {
	switch m := msg.(type) {
	case *sip.Response:
		key, err := sip.ClientTxKeyMake(m)
		if err != nil {
			return
		}
		e.mu.Lock()
		tx := e.clients[key]
		e.mu.Unlock()
		if tx != nil {
			// Receive blocks until the requester reads the response or the
			// transaction ends (at the latest in Close).
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				tx.Receive(m)
			}()
		}
	case *sip.Request:
		e.handleRequest(m)
	}
}

func (e *endpoint) handleRequest(req *sip.Request) {
	key, err := sip.ServerTxKeyMake(req)
	if err != nil {
		_ = e.WriteMsg(response(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	if req.IsCancel() {
		// The CANCEL matches the INVITE's transaction key.
		ikey := key
		if k, err := inviteKeyOf(req); err == nil {
			ikey = k
		}
		e.mu.Lock()
		tx := e.servers[ikey]
		e.mu.Unlock()
		code, reason := sip.StatusOK, "OK"
		if tx == nil {
			code, reason = sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist"
		}
		_ = e.WriteMsg(response(req, code, reason, nil))
		if tx != nil {
			_ = tx.Receive(req)
		}
		return
	}
	e.mu.Lock()
	tx := e.servers[key]
	e.mu.Unlock()
	if tx != nil {
		// A retransmission, or the ACK of a non-2xx final response.
		_ = tx.Receive(req)
		return
	}
	if req.IsAck() {
		e.spawn(func() { e.handler(req, nil) })
		return
	}
	tx = sip.NewServerTx(key, req, e, e.txLogger)
	if err := tx.Init(); err != nil {
		e.log.Debug("server tx init", "err", err)
		return
	}
	e.mu.Lock()
	e.servers[key] = tx
	e.mu.Unlock()
	tx.OnTerminate(func(k string, _ error) {
		e.mu.Lock()
		delete(e.servers, k)
		e.mu.Unlock()
	})
	if !e.spawn(func() { e.handler(req, tx) }) {
		tx.Terminate() // the simulator is closing
	}
}

// inviteKeyOf returns the server transaction key of the INVITE a CANCEL
// cancels: same branch, method INVITE.
func inviteKeyOf(cancel *sip.Request) (string, error) {
	c := cancel.Clone()
	c.Method = sip.INVITE
	if cs := c.CSeq(); cs != nil {
		cs.MethodName = sip.INVITE
	}
	return sip.ServerTxKeyMake(c)
}

// do sends req in a client transaction and returns its final response.
func (e *endpoint) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	if e.closed.Load() {
		return nil, ErrClosed
	}
	req.SetTransport(e.network)
	key, err := sip.ClientTxKeyMake(req)
	if err != nil {
		return nil, fmt.Errorf("transaction key: %w", err)
	}
	tx := sip.NewClientTx(key, req, e, e.txLogger)
	e.mu.Lock()
	e.clients[key] = tx
	e.mu.Unlock()
	tx.OnTerminate(func(k string, _ error) {
		e.mu.Lock()
		delete(e.clients, k)
		e.mu.Unlock()
	})
	if err := tx.Init(); err != nil {
		tx.Terminate()
		return nil, fmt.Errorf("send %s: %w", req.Method, err)
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			if err := tx.Err(); err != nil {
				return nil, fmt.Errorf("%s: %w: %w", req.Method, ErrTimeout, err)
			}
			return nil, fmt.Errorf("%s: %w", req.Method, ErrTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-e.done:
			return nil, ErrClosed
		}
	}
}

// viaHost returns the sent-by host and port for Via and Contact.
func (e *endpoint) viaHost() (string, int) {
	return e.local.IP.String(), e.local.Port
}

// hostPort formats the local address as host:port.
func (e *endpoint) hostPort() string {
	return net.JoinHostPort(e.local.IP.String(), strconv.Itoa(e.local.Port))
}

// response builds a response to req that goes back where req came from.
func response(req *sip.Request, code int, reason string, body []byte) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, body)
	res.SetDestination(req.Source())
	res.AppendHeader(sip.NewHeader("User-Agent", userAgent))
	return res
}
