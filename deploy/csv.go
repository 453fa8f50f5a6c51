package deploy

import (
	"bufio"
	"io"
	"strconv"
	"time"
)

// CSVHeader is the header line of requests.csv: the columns every driver
// writes, then the simulator's extra detail, then why a failed request
// failed (Failure.String(); empty for a request that did not fail).
const CSVHeader = "id,device,sample,arrival_ms,decision,edge_ms,uplink_ms,cloud_queue_ms,cloud_ms,latency_ms,correct,status,edge_queue_ms,downlink_ms,batch,failure"

// CSVRecorder writes records as requests.csv rows, header first. Times are
// milliseconds with exactly six decimals, printed from integer nanoseconds,
// so equal runs give byte-identical files. It buffers: call Flush at the end
// (Run does).
type CSVRecorder struct {
	w      *bufio.Writer
	buf    []byte
	header bool
}

// NewCSVRecorder returns a recorder writing to w.
func NewCSVRecorder(w io.Writer) *CSVRecorder {
	return &CSVRecorder{w: bufio.NewWriterSize(w, 64<<10), buf: make([]byte, 0, 256)}
}

// Record writes one row.
func (c *CSVRecorder) Record(r *Record) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	b := c.buf[:0]
	b = strconv.AppendUint(b, r.ID, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Device), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Sample), 10)
	b = append(b, ',')
	b = appendMS(b, r.Arrival)
	b = append(b, ',')
	if r.Decision != 0 {
		b = append(b, r.Decision.String()...)
	}
	for _, d := range [...]time.Duration{r.Edge, r.Uplink, r.CloudQueue, r.Cloud, r.Latency} {
		b = append(b, ',')
		b = appendMS(b, d)
	}
	b = append(b, ',')
	b = strconv.AppendBool(b, r.Correct)
	b = append(b, ',')
	b = append(b, r.Status.String()...)
	b = append(b, ',')
	b = appendMS(b, r.EdgeQueue)
	b = append(b, ',')
	b = appendMS(b, r.Downlink)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Batch), 10)
	b = append(b, ',')
	b = append(b, r.Failure.String()...)
	b = append(b, '\n')
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

// Flush writes the header if no row came, and whatever is buffered.
func (c *CSVRecorder) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	return c.w.Flush()
}

func (c *CSVRecorder) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	_, err := c.w.WriteString(CSVHeader + "\n")
	return err
}

// appendMS appends d in milliseconds with six decimals, exactly.
func appendMS(b []byte, d time.Duration) []byte {
	n := int64(d)
	if n < 0 {
		b = append(b, '-')
		n = -n // a negative time is a bug upstream; print it rather than hide it
	}
	b = strconv.AppendInt(b, n/1e6, 10)
	frac := n % 1e6
	b = append(b, '.')
	for div := int64(1e5); div > 0; div /= 10 {
		b = append(b, byte('0'+frac/div%10))
	}
	return b
}
