-- Runs once, when the MySQL container starts with an empty data volume
-- (/docker-entrypoint-initdb.d). One schema and one user per service; each user
-- can touch only its own schema, as in scripts/lib/common.sh and the Helm chart.
-- The passwords are for the local container route only: compose.yaml builds the
-- services' MOING_DATABASE__URL from the same values.

CREATE DATABASE IF NOT EXISTS moing_auth CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'moing_auth'@'%' IDENTIFIED BY 'compose_auth';
GRANT ALL PRIVILEGES ON moing_auth.* TO 'moing_auth'@'%';

CREATE DATABASE IF NOT EXISTS moing_moim CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'moing_moim'@'%' IDENTIFIED BY 'compose_moim';
GRANT ALL PRIVILEGES ON moing_moim.* TO 'moing_moim'@'%';

CREATE DATABASE IF NOT EXISTS moing_mission CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'moing_mission'@'%' IDENTIFIED BY 'compose_mission';
GRANT ALL PRIVILEGES ON moing_mission.* TO 'moing_mission'@'%';

CREATE DATABASE IF NOT EXISTS moing_board CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'moing_board'@'%' IDENTIFIED BY 'compose_board';
GRANT ALL PRIVILEGES ON moing_board.* TO 'moing_board'@'%';

CREATE DATABASE IF NOT EXISTS moing_notification CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'moing_notification'@'%' IDENTIFIED BY 'compose_notification';
GRANT ALL PRIVILEGES ON moing_notification.* TO 'moing_notification'@'%';

FLUSH PRIVILEGES;
