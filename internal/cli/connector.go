package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	v1alpha1 "github.com/vigil-operator/vigil/api/v1alpha1"
	"github.com/vigil-operator/vigil/internal/channel/line"
	"github.com/vigil-operator/vigil/internal/channel/simulator"
	"github.com/vigil-operator/vigil/internal/channel/slack"
	"github.com/vigil-operator/vigil/internal/channel/telegram"
	"github.com/vigil-operator/vigil/internal/channel/webhook"
	"github.com/vigil-operator/vigil/internal/channel/wechatoa"
	"github.com/vigil-operator/vigil/internal/channel/wecom"
	"github.com/vigil-operator/vigil/internal/channel/wecomarchive"
	"github.com/vigil-operator/vigil/internal/channel/whatsapp"
	"github.com/vigil-operator/vigil/internal/connector"
	cc "github.com/vigil-operator/vigil/internal/connectorconfig"
	"github.com/vigil-operator/vigil/internal/version"
)

// channelFactories maps the CRD's channel names to their implementations.
var channelFactories = map[v1alpha1.Channel]connector.ChannelFactory{
	v1alpha1.ChannelWeComArchive:          wecomarchive.Factory,
	v1alpha1.ChannelWeComCallback:         wecom.Factory,
	v1alpha1.ChannelWeChatOfficialAccount: wechatoa.Factory,
	v1alpha1.ChannelWhatsApp:              whatsapp.Factory,
	v1alpha1.ChannelSlack:                 slack.Factory,
	v1alpha1.ChannelLINE:                  line.Factory,
	v1alpha1.ChannelTelegram:              telegram.Factory,
	v1alpha1.ChannelWebhook:               webhook.Factory,
	v1alpha1.ChannelSimulator:             simulator.Factory,
}

type connectorOptions struct {
	account        string
	configDir      string
	credentialsDir string
	spoolDir       string
	spoolMaxBytes  int64
	archiveURL     string
	tokenFile      string
	listen         string
	logFormat      string
}

func newConnectorCommand() *cobra.Command {
	o := &connectorOptions{}
	cmd := &cobra.Command{
		Use:   "connector",
		Short: "Capture one account's messages: verify, normalise, spool durably, ship to the archive",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConnector(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.account, "account", "", "the MonitoredAccount as namespace/name (must match the config)")
	f.StringVar(&o.configDir, "config-dir", cc.ConfigDir, "directory with config.json and policies.json")
	f.StringVar(&o.credentialsDir, "credentials-dir", cc.CredentialsDir, "directory with the credentials Secret's keys as files")
	f.StringVar(&o.spoolDir, "spool-dir", cc.SpoolDir, "durable spool directory (a persistent volume)")
	f.Int64Var(&o.spoolMaxBytes, "spool-max-bytes", 900<<20, "spool size above which new input is refused with 503")
	f.StringVar(&o.archiveURL, "archive-url", "", "URL of the archive")
	f.StringVar(&o.tokenFile, "token-file", cc.TokenDir+"/"+cc.TokenFile, "projected ServiceAccount token for the archive, re-read on every request")
	f.StringVar(&o.listen, "listen", ":8080", "address of the webhook, health and metrics server")
	f.StringVar(&o.logFormat, "log-format", "json", "json or text")
	return cmd
}

func runConnector(cmd *cobra.Command, o *connectorOptions) error {
	log := newLogger(o.logFormat).WithName("connector")
	file, err := cc.Load(o.configDir)
	if err != nil {
		return err
	}
	if o.account != "" && o.account != file.Account {
		return fmt.Errorf("--account %s does not match the config's account %s", o.account, file.Account)
	}
	factory, ok := channelFactories[file.Channel]
	if !ok {
		return fmt.Errorf("channel %s has no connector in this build", file.Channel)
	}
	creds := map[string][]byte{}
	if len(file.CredentialKeys) > 0 {
		if creds, err = connector.LoadCredentials(o.credentialsDir); err != nil {
			return err
		}
		var missing []string
		for _, k := range file.CredentialKeys {
			if _, ok := creds[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("credentials in %s lack key(s) %s", o.credentialsDir, strings.Join(missing, ", "))
		}
	}
	if file.State == v1alpha1.AccountSuspended {
		return fmt.Errorf("account %s is Suspended; the connector should not be running", file.Account)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c, err := connector.New(connector.Config{
		Account:         file.Account,
		Channel:         strings.ToLower(string(file.Channel)),
		ListenAddr:      os.ExpandEnv(o.listen),
		SpoolDir:        o.spoolDir,
		SpoolMaxBytes:   o.spoolMaxBytes,
		ArchiveURL:      o.archiveURL,
		TokenFile:       o.tokenFile,
		Custodian:       file.Custodian.Name,
		ExternalID:      file.ExternalID,
		Credentials:     creds,
		ChannelSettings: channelSettings(file),
		Version:         version.String(),
		PolicyDir:       o.configDir,
	}, connector.Deps{
		Factories: map[string]connector.ChannelFactory{strings.ToLower(string(file.Channel)): factory},
		Registry:  reg,
		Logger:    log,
	})
	if err != nil {
		return err
	}
	log.Info("Starting connector", "account", file.Account, "channel", file.Channel, "listen", os.ExpandEnv(o.listen))
	return c.Run(cmd.Context())
}

// channelSettings turns the typed settings of config.json into the channel's
// string settings.
func channelSettings(f *cc.File) map[string]string {
	s := cc.Settings(f)
	if f.Simulator != nil {
		rate := f.Simulator.MessagesPerMinute
		if rate == 0 {
			rate = 60
		}
		s[simulator.SettingRate] = strconv.Itoa(int(rate))
		s[simulator.SettingSeed] = strconv.FormatInt(f.Simulator.Seed, 10)
	}
	return s
}

// newLogger builds the process logger: JSON for machines, text for people.
func newLogger(format string) logr.Logger {
	return newZapLogger(format == "text")
}
