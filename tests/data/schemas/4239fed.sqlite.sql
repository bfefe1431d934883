-- The statements an earlier version's create_all issued on an empty sqlite database: commit 4239fed,
-- 2026-11-26, before the helpline's callbacks went to places: rappels without place_id, done_at, done_by;
-- telegram_boutons and tentatives_console, since replaced; no login_throttle, telegram_button_tokens, lieux_version.
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
	imported_at DATETIME,
	row_hash VARCHAR(64),
	PRIMARY KEY (id)
);

CREATE INDEX ix_lieux_longitude ON lieux (longitude);

CREATE INDEX ix_lieux_latitude ON lieux (latitude);

CREATE INDEX ix_lieux_lat_lon ON lieux (latitude, longitude);

CREATE INDEX ix_lieux_code_insee ON lieux (code_insee);

CREATE INDEX ix_lieux_code_postal ON lieux (code_postal);

CREATE TABLE telegram_updates (
	update_id BIGINT NOT NULL,
	seen_at DATETIME NOT NULL,
	PRIMARY KEY (update_id)
);

CREATE INDEX ix_telegram_updates_seen_at ON telegram_updates (seen_at);

CREATE TABLE telegram_boutons (
	token VARCHAR(32) NOT NULL,
	payload TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (token)
);

CREATE TABLE appels_ligne (
	id INTEGER NOT NULL,
	call_key VARCHAR(64) NOT NULL,
	outcome VARCHAR(32) NOT NULL,
	received_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (call_key)
);

CREATE TABLE rappels (
	id INTEGER NOT NULL,
	call_key VARCHAR(64) NOT NULL,
	caller_encrypted BLOB NOT NULL,
	caller_pseudonym VARCHAR(64) NOT NULL,
	called_at DATETIME NOT NULL,
	due_at DATETIME NOT NULL,
	status VARCHAR(32) NOT NULL,
	created_at DATETIME NOT NULL,
	reason VARCHAR(16) NOT NULL,
	sms_state VARCHAR(16) NOT NULL,
	sms_attempts INTEGER NOT NULL,
	sms_updated_at DATETIME NOT NULL,
	sms_message_id VARCHAR(128),
	PRIMARY KEY (id),
	UNIQUE (call_key)
);

CREATE INDEX ix_rappels_caller_pseudonym ON rappels (caller_pseudonym);

CREATE INDEX ix_rappels_due_at ON rappels (due_at);

CREATE TABLE sms_choices (
	number_key VARCHAR(64) NOT NULL,
	choices JSON NOT NULL,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (number_key)
);

CREATE TABLE sms_opt_outs (
	number_key VARCHAR(64) NOT NULL,
	opted_out_at DATETIME NOT NULL,
	PRIMARY KEY (number_key)
);

CREATE TABLE sms_processed_messages (
	message_id VARCHAR(160) NOT NULL,
	received_at DATETIME NOT NULL,
	PRIMARY KEY (message_id)
);

CREATE TABLE sms_deliveries (
	reference VARCHAR(160) NOT NULL,
	gateway_id VARCHAR(160),
	status VARCHAR(40),
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (reference)
);

CREATE INDEX ix_sms_deliveries_gateway_id ON sms_deliveries (gateway_id);

CREATE TABLE tentatives_console (
	email_hash VARCHAR(64) NOT NULL,
	failures INTEGER NOT NULL,
	locked_until DATETIME,
	PRIMARY KEY (email_hash)
);

CREATE TABLE journal_console (
	id INTEGER NOT NULL,
	at DATETIME NOT NULL,
	account_id INTEGER,
	action VARCHAR(32) NOT NULL,
	referral_id INTEGER,
	place_id VARCHAR(255),
	detail TEXT,
	PRIMARY KEY (id)
);

CREATE INDEX ix_journal_console_account_id ON journal_console (account_id);

CREATE INDEX ix_journal_console_at ON journal_console (at);

CREATE INDEX ix_journal_console_referral_id ON journal_console (referral_id);

CREATE INDEX ix_journal_console_place_id ON journal_console (place_id);

CREATE TABLE orientations (
	id INTEGER NOT NULL,
	reference VARCHAR(8) NOT NULL,
	created_at DATETIME NOT NULL,
	level VARCHAR(32) NOT NULL,
	reasons JSON NOT NULL,
	facts JSON NOT NULL,
	place_id VARCHAR(255),
	channel VARCHAR(32) NOT NULL,
	conversation_key VARCHAR(64) NOT NULL,
	consent_at DATETIME NOT NULL,
	status VARCHAR(32) NOT NULL,
	claimed_at DATETIME,
	claimed_by INTEGER,
	closed_at DATETIME,
	outcome VARCHAR(32),
	updated_at DATETIME,
	PRIMARY KEY (id),
	FOREIGN KEY(place_id) REFERENCES lieux (id) ON DELETE SET NULL
);

CREATE UNIQUE INDEX ix_orientations_reference ON orientations (reference);

CREATE INDEX ix_orientations_conversation_key ON orientations (conversation_key);

CREATE TABLE lieux_notifications (
	id INTEGER NOT NULL,
	place_id VARCHAR(255) NOT NULL,
	kind VARCHAR(16) NOT NULL,
	target TEXT NOT NULL,
	secret TEXT,
	active BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_lieux_notifications_target UNIQUE (place_id, kind, target),
	FOREIGN KEY(place_id) REFERENCES lieux (id) ON DELETE CASCADE
);

CREATE INDEX ix_lieux_notifications_place_id ON lieux_notifications (place_id);

CREATE TABLE comptes (
	id INTEGER NOT NULL,
	email VARCHAR(320) NOT NULL,
	password_hash VARCHAR(255) NOT NULL,
	place_id VARCHAR(255),
	role VARCHAR(16) NOT NULL,
	active BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (email),
	FOREIGN KEY(place_id) REFERENCES lieux (id) ON DELETE SET NULL
);

CREATE TABLE outbox (
	id INTEGER NOT NULL,
	referral_id INTEGER NOT NULL,
	reference VARCHAR(8) NOT NULL,
	place_id VARCHAR(255),
	channel_id INTEGER,
	kind VARCHAR(16) NOT NULL,
	target TEXT NOT NULL,
	payload JSON NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts INTEGER NOT NULL,
	next_attempt_at DATETIME NOT NULL,
	locked_until DATETIME,
	locked_by VARCHAR(32),
	last_error TEXT,
	provider_id VARCHAR(255),
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	sent_at DATETIME,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE,
	FOREIGN KEY(channel_id) REFERENCES lieux_notifications (id) ON DELETE SET NULL
);

CREATE INDEX ix_outbox_due ON outbox (status, next_attempt_at);

CREATE INDEX ix_outbox_reference ON outbox (reference);

CREATE INDEX ix_outbox_referral_id ON outbox (referral_id);

CREATE TABLE sessions_console (
	id INTEGER NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	account_id INTEGER NOT NULL,
	csrf_token VARCHAR(64) NOT NULL,
	created_at DATETIME NOT NULL,
	expires_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (token_hash),
	FOREIGN KEY(account_id) REFERENCES comptes (id) ON DELETE CASCADE
);

CREATE INDEX ix_sessions_console_account_id ON sessions_console (account_id);

CREATE TABLE notes_console (
	id INTEGER NOT NULL,
	referral_id INTEGER NOT NULL,
	account_id INTEGER,
	at DATETIME NOT NULL,
	text TEXT NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE
);

CREATE INDEX ix_notes_console_referral_id ON notes_console (referral_id);

CREATE TABLE contacts_suivi (
	id INTEGER NOT NULL,
	referral_id INTEGER NOT NULL,
	channel VARCHAR(16) NOT NULL,
	sealed_address TEXT NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_contacts_suivi_referral_id ON contacts_suivi (referral_id);

CREATE TABLE messages_suivi (
	id INTEGER NOT NULL,
	referral_id INTEGER NOT NULL,
	kind VARCHAR(16) NOT NULL,
	due_at DATETIME NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts INTEGER NOT NULL,
	last_error TEXT,
	sent_at DATETIME,
	created_at DATETIME NOT NULL,
	answer VARCHAR(8),
	answered_at DATETIME,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE
);

CREATE INDEX ix_messages_suivi_referral_id ON messages_suivi (referral_id);

CREATE INDEX ix_messages_suivi_due ON messages_suivi (status, due_at);

CREATE TABLE prises_en_main (
	id INTEGER NOT NULL,
	referral_id INTEGER NOT NULL,
	conversation_key VARCHAR(64) NOT NULL,
	active_key VARCHAR(64),
	account_id INTEGER,
	started_at DATETIME NOT NULL,
	ends_at DATETIME NOT NULL,
	ended_at DATETIME,
	end_reason VARCHAR(16),
	ended_by INTEGER,
	PRIMARY KEY (id),
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE,
	UNIQUE (active_key)
);

CREATE INDEX ix_prises_en_main_conversation_key ON prises_en_main (conversation_key);

CREATE INDEX ix_prises_en_main_referral_id ON prises_en_main (referral_id);

CREATE TABLE messages_direct (
	id INTEGER NOT NULL,
	takeover_id INTEGER NOT NULL,
	referral_id INTEGER NOT NULL,
	direction VARCHAR(16) NOT NULL,
	account_id INTEGER,
	text TEXT NOT NULL,
	at DATETIME NOT NULL,
	status VARCHAR(16) NOT NULL,
	error TEXT,
	PRIMARY KEY (id),
	FOREIGN KEY(takeover_id) REFERENCES prises_en_main (id) ON DELETE CASCADE,
	FOREIGN KEY(referral_id) REFERENCES orientations (id) ON DELETE CASCADE
);

CREATE INDEX ix_messages_direct_referral_id ON messages_direct (referral_id);

CREATE INDEX ix_messages_direct_takeover_id ON messages_direct (takeover_id);
