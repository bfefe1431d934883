-- The statements an earlier version's create_all issued on an empty postgresql database: commit 9ce04b6,
-- 2026-12-06, the last version before the migrations (create_all and add_missing_columns).
-- Made by running that commit's Base.metadata.create_all on a mock engine (sqlalchemy.create_mock_engine).
-- Frozen: tests/test_migrations.py and tests/production/test_migrations.py upgrade a copy of it.

CREATE TABLE lieux (
	id VARCHAR(255) NOT NULL,
	pivot VARCHAR(32) NOT NULL,
	nom TEXT NOT NULL,
	commune VARCHAR(255) NOT NULL,
	code_postal VARCHAR(5) NOT NULL,
	code_insee VARCHAR(5),
	adresse TEXT NOT NULL,
	complement_adresse TEXT,
	latitude FLOAT,
	longitude FLOAT,
	typologie TEXT,
	telephone VARCHAR(32),
	courriels TEXT,
	site_web TEXT,
	horaires TEXT,
	presentation_resume TEXT,
	presentation_detail TEXT,
	source TEXT,
	itinerance VARCHAR(64),
	structure_parente TEXT,
	date_maj DATE NOT NULL,
	services TEXT,
	publics_specifiquement_adresses TEXT,
	prise_en_charge_specifique TEXT,
	frais_a_charge TEXT,
	dispositif_programmes_nationaux TEXT,
	formations_labels TEXT,
	autres_formations_labels TEXT,
	modalites_acces TEXT,
	modalites_accompagnement TEXT,
	fiche_acces_libre TEXT,
	prise_rdv TEXT,
	is_demo BOOLEAN NOT NULL,
	imported_at TIMESTAMP WITHOUT TIME ZONE,
	row_hash VARCHAR(64),
	PRIMARY KEY (id)
);

CREATE INDEX ix_lieux_latitude ON lieux (latitude);

CREATE INDEX ix_lieux_lat_lon ON lieux (latitude, longitude);

CREATE INDEX ix_lieux_code_insee ON lieux (code_insee);

CREATE INDEX ix_lieux_code_postal ON lieux (code_postal);

CREATE INDEX ix_lieux_longitude ON lieux (longitude);

CREATE TABLE lieux_version (
	id SERIAL NOT NULL,
	token VARCHAR(32) NOT NULL,
	PRIMARY KEY (id)
);

INSERT INTO lieux_version (id, token) VALUES (1, '5f0c1f7e6a0b4c1d9e2f3a4b5c6d7e8f');

CREATE TABLE telegram_updates (
	update_id BIGINT NOT NULL,
	seen_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (update_id)
);

CREATE INDEX ix_telegram_updates_seen_at ON telegram_updates (seen_at);

CREATE TABLE telegram_button_tokens (
	token VARCHAR(32) NOT NULL,
	conversation_key VARCHAR(64) NOT NULL,
	offer VARCHAR(16) NOT NULL,
	payload TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (token)
);

CREATE INDEX ix_telegram_button_tokens_conversation_key ON telegram_button_tokens (conversation_key);

CREATE INDEX ix_telegram_button_tokens_created_at ON telegram_button_tokens (created_at);

CREATE TABLE appels_ligne (
	id SERIAL NOT NULL,
	call_key VARCHAR(64) NOT NULL,
	outcome VARCHAR(32) NOT NULL,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (call_key)
);

CREATE TABLE rappels (
	id SERIAL NOT NULL,
	call_key VARCHAR(64) NOT NULL,
	caller_encrypted BYTEA NOT NULL,
	caller_pseudonym VARCHAR(64) NOT NULL,
	called_at TIMESTAMP WITH TIME ZONE NOT NULL,
	due_at TIMESTAMP WITH TIME ZONE NOT NULL,
	status VARCHAR(32) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	reason VARCHAR(16) NOT NULL,
	sms_state VARCHAR(16) NOT NULL,
	sms_attempts INTEGER NOT NULL,
	sms_updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	sms_message_id VARCHAR(128),
	place_id VARCHAR(255),
	done_at TIMESTAMP WITH TIME ZONE,
	done_by INTEGER,
	PRIMARY KEY (id),
	UNIQUE (call_key)
);

CREATE INDEX ix_rappels_place_id ON rappels (place_id);

CREATE INDEX ix_rappels_caller_pseudonym ON rappels (caller_pseudonym);

CREATE INDEX ix_rappels_due_at ON rappels (due_at);

CREATE TABLE sms_choices (
	number_key VARCHAR(64) NOT NULL,
	choices JSON NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (number_key)
);

CREATE TABLE sms_opt_outs (
	number_key VARCHAR(64) NOT NULL,
	opted_out_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (number_key)
);

CREATE TABLE sms_processed_messages (
	message_id VARCHAR(160) NOT NULL,
	received_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (message_id)
);

CREATE TABLE sms_deliveries (
	reference VARCHAR(160) NOT NULL,
	gateway_id VARCHAR(160),
	status VARCHAR(40),
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (reference)
);

CREATE INDEX ix_sms_deliveries_gateway_id ON sms_deliveries (gateway_id);

CREATE TABLE login_throttle (
	key VARCHAR(64) NOT NULL,
	failures INTEGER NOT NULL,
	not_before TIMESTAMP WITH TIME ZONE NOT NULL,
	last_seen TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (key)
);

CREATE INDEX ix_login_throttle_last_seen ON login_throttle (last_seen);

CREATE TABLE journal_console (
	id SERIAL NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	account_id INTEGER,
	action VARCHAR(32) NOT NULL,
	referral_id INTEGER,
	place_id VARCHAR(255),
	detail TEXT,
	PRIMARY KEY (id)
);

CREATE INDEX ix_journal_console_referral_id ON journal_console (referral_id);

CREATE INDEX ix_journal_console_place_id ON journal_console (place_id);

CREATE INDEX ix_journal_console_account_id ON journal_console (account_id);

CREATE INDEX ix_journal_console_at ON journal_console (at);

CREATE TABLE orientations (
	id SERIAL NOT NULL,
	reference VARCHAR(8) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	level VARCHAR(32) NOT NULL,
	reasons JSON NOT NULL,
	facts JSON NOT NULL,
	place_id VARCHAR(255),
	channel VARCHAR(32) NOT NULL,
	conversation_key VARCHAR(64) NOT NULL,
	consent_at TIMESTAMP WITH TIME ZONE NOT NULL,
	status VARCHAR(32) NOT NULL,
	claimed_at TIMESTAMP WITH TIME ZONE,
	claimed_by INTEGER,
	closed_at TIMESTAMP WITH TIME ZONE,
	outcome VARCHAR(32),
	updated_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	FOREIGN KEY(place_id) REFERENCES lieux (id) ON DELETE SET NULL
);

CREATE UNIQUE INDEX ix_orientations_reference ON orientations (reference);

CREATE INDEX ix_orientations_conversation_key ON orientations (conversation_key);

CREATE TABLE lieux_notifications (
	id SERIAL NOT NULL,
	place_id VARCHAR(255) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	target TEXT NOT NULL,
	secret TEXT,
	active BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_lieux_notifications_target UNIQUE (place_id, kind, target),
	FOREIGN KEY(place_id) REFERENCES lieux (id) ON DELETE CASCADE
);

CREATE INDEX ix_lieux_notifications_place_id ON lieux_notifications (place_id);

CREATE TABLE comptes (
	id SERIAL NOT NULL,
	email VARCHAR(320) NOT NULL,
	password_hash VARCHAR(255) NOT NULL,
	place_id VARCHAR(255),
	role VARCHAR(16) NOT NULL,
	active BOOLEAN NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (email),
	FOREIGN KEY(place_id) REFERENCES lieux (id) ON DELETE SET NULL
);

CREATE TABLE outbox (
	id SERIAL NOT NULL,
	referral_id INTEGER NOT NULL,
	reference VARCHAR(8) NOT NULL,
	place_id VARCHAR(255),
	channel_id INTEGER,
	kind VARCHAR(16) NOT NULL,
	target TEXT NOT NULL,
	payload JSON NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts INTEGER NOT NULL,
	next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL,
	locked_until TIMESTAMP WITH TIME ZONE,
	locked_by VARCHAR(32),
	last_error TEXT,
	provider_id VARCHAR(255),
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	sent_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE,
	FOREIGN KEY(channel_id) REFERENCES lieux_notifications (id) ON DELETE SET NULL
);

CREATE INDEX ix_outbox_due ON outbox (status, next_attempt_at);

CREATE INDEX ix_outbox_referral_id ON outbox (referral_id);

CREATE INDEX ix_outbox_reference ON outbox (reference);

CREATE TABLE sessions_console (
	id SERIAL NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	account_id INTEGER NOT NULL,
	csrf_token VARCHAR(64) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (token_hash),
	FOREIGN KEY(account_id) REFERENCES comptes (id) ON DELETE CASCADE
);

CREATE INDEX ix_sessions_console_account_id ON sessions_console (account_id);

CREATE TABLE notes_console (
	id SERIAL NOT NULL,
	referral_id INTEGER NOT NULL,
	account_id INTEGER,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	text TEXT NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE
);

CREATE INDEX ix_notes_console_referral_id ON notes_console (referral_id);

CREATE TABLE contacts_suivi (
	id SERIAL NOT NULL,
	referral_id INTEGER NOT NULL,
	channel VARCHAR(16) NOT NULL,
	sealed_address TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_contacts_suivi_referral_id ON contacts_suivi (referral_id);

CREATE TABLE messages_suivi (
	id SERIAL NOT NULL,
	referral_id INTEGER NOT NULL,
	kind VARCHAR(16) NOT NULL,
	due_at TIMESTAMP WITH TIME ZONE NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts INTEGER NOT NULL,
	last_error TEXT,
	sent_at TIMESTAMP WITH TIME ZONE,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	answer VARCHAR(8),
	answered_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE
);

CREATE INDEX ix_messages_suivi_due ON messages_suivi (status, due_at);

CREATE INDEX ix_messages_suivi_referral_id ON messages_suivi (referral_id);

CREATE TABLE prises_en_main (
	id SERIAL NOT NULL,
	referral_id INTEGER NOT NULL,
	conversation_key VARCHAR(64) NOT NULL,
	active_key VARCHAR(64),
	account_id INTEGER,
	started_at TIMESTAMP WITH TIME ZONE NOT NULL,
	ends_at TIMESTAMP WITH TIME ZONE NOT NULL,
	ended_at TIMESTAMP WITH TIME ZONE,
	end_reason VARCHAR(16),
	ended_by INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE,
	UNIQUE (active_key)
);

CREATE INDEX ix_prises_en_main_referral_id ON prises_en_main (referral_id);

CREATE INDEX ix_prises_en_main_conversation_key ON prises_en_main (conversation_key);

CREATE TABLE messages_direct (
	id SERIAL NOT NULL,
	takeover_id INTEGER NOT NULL,
	referral_id INTEGER NOT NULL,
	direction VARCHAR(16) NOT NULL,
	account_id INTEGER,
	text TEXT NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	status VARCHAR(16) NOT NULL,
	error TEXT,
	PRIMARY KEY (id),
	FOREIGN KEY(takeover_id) REFERENCES prises_en_main (id) ON DELETE CASCADE,
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE
);

CREATE INDEX ix_messages_direct_takeover_id ON messages_direct (takeover_id);

CREATE INDEX ix_messages_direct_referral_id ON messages_direct (referral_id);
