package wecomarchive

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metricPrefix starts every metric of this channel.
const metricPrefix = "vigil_connector_wecom_archive_"

// SourceWindow is how long WeCom keeps archive data for GetChatData
// ("获取会话记录内容不能超过5天"): data not pulled within it is lost.
const SourceWindow = 5 * 24 * time.Hour

// Pull results, the values of pulls_total{result}.
const (
	resultOK          = "ok"
	resultRetryable   = "retryable_error"
	resultError       = "error"
	resultDataExpired = "data_expired"
	resultKeyMissing  = "key_missing"
	resultSinkError   = "sink_error"
)

type metrics struct {
	pulls        *prometheus.CounterVec
	records      prometheus.Counter
	lastPull     prometheus.Gauge
	cursor       prometheus.Gauge
	gaps         prometheus.Counter
	mediaBytes   prometheus.Counter
	media        *prometheus.CounterVec
	permitUsers  prometheus.Gauge
	windowRemain prometheus.GaugeFunc

	mu sync.Mutex
	// oldestUnpulled is the estimate of the time of the oldest data not
	// yet pulled: when the last pull was caught up, that pull's time;
	// when behind, the msgtime of the newest message pulled.
	oldestUnpulled time.Time
	now            func() time.Time
}

func newMetrics(reg prometheus.Registerer, now func() time.Time, start time.Time) (*metrics, error) {
	m := &metrics{
		pulls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricPrefix + "pulls_total",
			Help: "GetChatData pulls, by result."}, []string{"result"}),
		records: prometheus.NewCounter(prometheus.CounterOpts{Name: metricPrefix + "records_total",
			Help: "Records captured from the archive, including gap and checkpoint records."}),
		lastPull: prometheus.NewGauge(prometheus.GaugeOpts{Name: metricPrefix + "last_successful_pull_timestamp_seconds",
			Help: "Unix time of the last pull whose records the spool accepted."}),
		cursor: prometheus.NewGauge(prometheus.GaugeOpts{Name: metricPrefix + "cursor_seq",
			Help: "The persisted archive seq cursor."}),
		gaps: prometheus.NewCounter(prometheus.CounterOpts{Name: metricPrefix + "gaps_total",
			Help: "Archive gaps recorded (seq discontinuities and expired data)."}),
		mediaBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: metricPrefix + "media_bytes_total",
			Help: "Media bytes downloaded with GetMediaData."}),
		media: prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricPrefix + "media_total",
			Help: "Media files by final state (stored, failed, too_large)."}, []string{"state"}),
		permitUsers: prometheus.NewGauge(prometheus.GaugeOpts{Name: metricPrefix + "permit_users",
			Help: "Members with archiving enabled (get_permit_user_list)."}),
		oldestUnpulled: start,
		now:            now,
	}
	m.windowRemain = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: metricPrefix + "source_window_remaining_seconds",
		Help: "Seconds until the oldest unpulled archive data leaves WeCom's 5-day window; alert well before 0."},
		m.windowRemaining)
	for _, r := range []string{resultOK, resultRetryable, resultError, resultDataExpired, resultKeyMissing, resultSinkError} {
		m.pulls.WithLabelValues(r)
	}
	for _, s := range []string{stateStored, stateFailed, stateTooLarge} {
		m.media.WithLabelValues(s)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.pulls, m.records, m.lastPull, m.cursor, m.gaps, m.mediaBytes, m.media, m.permitUsers, m.windowRemain} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register archive metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) windowRemaining() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return (SourceWindow - m.now().Sub(m.oldestUnpulled)).Seconds()
}

// setOldestUnpulled records the new estimate.
func (m *metrics) setOldestUnpulled(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.oldestUnpulled = t
}
