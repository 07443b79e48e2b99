package segment

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
)

// MaxBox bounds one box read from a segment: a fragment of a second or a
// few, never hundreds of MiB; a larger size is a garbled file.
const MaxBox = 256 << 20

// ReadInit reads a segment's init section (the boxes up to and including
// moov) from its start and parses it.
func ReadInit(br *bufio.Reader) (*fmp4.Init, error) {
	var b []byte
	for {
		typ, box, err := ReadBox(br)
		if err != nil {
			return nil, fmt.Errorf("init section: %w", err)
		}
		b = append(b, box...)
		if typ == "moov" {
			break
		}
	}
	var in fmp4.Init
	if err := in.Unmarshal(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("init section: %w", err)
	}
	return &in, nil
}

// ReadFragment reads the next moof and the mdat after it (boxes before
// the moof, such as styp or sidx, are skipped). At the end of the segment
// it returns io.EOF; in a fragment cut short (an open segment's last)
// io.ErrUnexpectedEOF.
func ReadFragment(br *bufio.Reader) ([]byte, error) {
	for {
		typ, moof, err := ReadBox(br)
		if err != nil {
			return nil, err
		}
		if typ != "moof" {
			continue
		}
		typ, mdat, err := ReadBox(br)
		if err != nil {
			return nil, noEOF(err)
		}
		if typ != "mdat" {
			return nil, fmt.Errorf("%s after moof: %w", typ, io.ErrUnexpectedEOF)
		}
		return append(moof, mdat...), nil
	}
}

// ReadBox reads one whole box, header included.
func ReadBox(br *bufio.Reader) (string, []byte, error) {
	hdr := make([]byte, 8, 16)
	if _, err := io.ReadFull(br, hdr); err != nil {
		return "", nil, err
	}
	size := uint64(binary.BigEndian.Uint32(hdr))
	typ := string(hdr[4:8])
	switch size {
	case 0:
		return "", nil, fmt.Errorf("box %q without size", typ)
	case 1:
		hdr = hdr[:16]
		if _, err := io.ReadFull(br, hdr[8:]); err != nil {
			return "", nil, noEOF(err)
		}
		size = binary.BigEndian.Uint64(hdr[8:])
	}
	if size < uint64(len(hdr)) || size > MaxBox {
		return "", nil, fmt.Errorf("box %q of %d bytes", typ, size)
	}
	// Read as it comes rather than allocated at once: a garbled size
	// costs no more memory than the bytes really there.
	var box bytes.Buffer
	box.Write(hdr)
	n, err := box.ReadFrom(io.LimitReader(br, int64(size)-int64(len(hdr))))
	if err != nil {
		return "", nil, err
	}
	if n != int64(size)-int64(len(hdr)) {
		return "", nil, io.ErrUnexpectedEOF
	}
	return typ, box.Bytes(), nil
}

// noEOF turns an EOF inside a box into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
