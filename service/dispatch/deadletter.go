package dispatch

import (
	"context"
	"maps"
	"strconv"
	"strings"

	"cloud.google.com/go/pubsub/v2"
)

// Attributes Pub/Sub adds to a message it forwards to a dead-letter topic;
// the dispatcher adds the same.
const (
	AttrDeadLetterDeliveryCount       = "CloudPubSubDeadLetterSourceDeliveryCount"
	AttrDeadLetterSubscription        = "CloudPubSubDeadLetterSourceSubscription"
	AttrDeadLetterSubscriptionProject = "CloudPubSubDeadLetterSourceSubscriptionProject"
	AttrDeadLetterPublishTime         = "CloudPubSubDeadLetterSourceTopicPublishTime"
)

// deadLetter gives up on m after its last failed attempt: it logs at ERROR,
// publishes m to the dead-letter topic when there is one, and acknowledges m.
// If the publish fails, m is not acknowledged (it would be lost) and
// deadLetter reports false, so that m is retried and dead-lettered again.
func (d *Dispatcher) deadLetter(ctx context.Context, m *pubsub.Message, attempt int, last outcome) bool {
	attrs := append(last.logAttrs(), "message_id", m.ID, "attempts", attempt, "subscription", d.cfg.Subscription)
	if dl := d.cfg.DeadLetter; dl != nil {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultDeadLetterTimeout)
		defer cancel()
		id, err := dl.Publish(pctx, d.deadLetterMessage(m, attempt)).Get(pctx)
		if err != nil {
			d.log.Error("dispatch: dead-letter publish failed; will retry",
				append(attrs, "dead_letter_topic", dl.String(), "publish_error", err.Error())...)
			return false
		}
		attrs = append(attrs, "dead_letter_topic", dl.String(), "dead_letter_id", id)
	}
	d.log.Error("dispatch: message dead-lettered after its last attempt", attrs...)
	d.attempts.forget(m.ID)
	m.Ack()
	d.deadLettered.Add(1)
	return true
}

// deadLetterMessage is m as forwarded to the dead-letter topic: its data and
// attributes, plus the attributes Pub/Sub adds. The ordering key is kept
// only when the publisher has ordering on (publishing one otherwise fails).
func (d *Dispatcher) deadLetterMessage(m *pubsub.Message, attempt int) *pubsub.Message {
	attrs := make(map[string]string, len(m.Attributes)+4)
	maps.Copy(attrs, m.Attributes)
	project, sub := splitSubscription(d.cfg.Subscription)
	attrs[AttrDeadLetterDeliveryCount] = strconv.Itoa(attempt)
	attrs[AttrDeadLetterSubscription] = sub
	attrs[AttrDeadLetterSubscriptionProject] = project
	attrs[AttrDeadLetterPublishTime] = formatTime(m.PublishTime)
	out := &pubsub.Message{Data: m.Data, Attributes: attrs}
	if d.cfg.DeadLetter.EnableMessageOrdering {
		out.OrderingKey = m.OrderingKey
	}
	return out
}

// splitSubscription splits "projects/p/subscriptions/s" into p and s; a name
// of another shape is returned whole as the subscription.
func splitSubscription(name string) (project, sub string) {
	parts := strings.Split(name, "/")
	if len(parts) == 4 && parts[0] == "projects" && parts[2] == "subscriptions" {
		return parts[1], parts[3]
	}
	return "", name
}
