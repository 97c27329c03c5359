#!/usr/bin/env bash
# Builds a fresh demo database in ./demo with customers in eight countries and languages,
# orders, shipments in several states and a complaint, then shows `status`.
# The clock is fixed (AFTERSALES_NOW) so the demo is the same every time.
set -euo pipefail
A=${AFTERSALES:-aftersales}
mkdir -p demo
rm -f demo/aftersales.db demo/aftersales.db-wal demo/aftersales.db-shm
export AFTERSALES_DB=demo/aftersales.db
export AFTERSALES_NOW=2026-11-23T10:00:00Z
q() { "$A" "$@" >/dev/null; }

q product add --sku PUMP-200 --name "Centrifugal pump CP-200" --technical --maintenance-days 90 \
  --maintenance-text "Lubricate the bearings and check the mechanical seal" --cycle-days 180 \
  --manual-url https://example.com/manuals/cp-200.pdf --video-url https://example.com/videos/cp-200-unboxing \
  --parts-url https://example.com/parts/cp-200
q product add --sku PUMP-300 --name "Centrifugal pump CP-300" --technical --maintenance-days 90 \
  --maintenance-text "Lubricate the bearings and check the mechanical seal"
q product add --sku VALVE-50 --name "Brass gate valve DN50" --cycle-days 90
q product add --sku SEAL-KIT --name "Mechanical seal kit" --cycle-days 60

q customer add --id C-MX-001 --name "Lucía Hernández" --company "Ferretería del Norte" --email lucia@ferrenorte.mx \
  --cc compras@ferrenorte.mx --locale es-MX --timezone America/Mexico_City --country MX --industry hardware \
  --manager-name "Wang Lei" --manager-email wang.lei@example.com --consent
q customer add --id C-SA-001 --name "فهد العتيبي" --company "مؤسسة الخليج للمضخات" --email fahad@gulfpumps.sa \
  --locale ar-SA --timezone Asia/Riyadh --country SA --industry water --consent
q customer add --id C-BR-001 --name "João Silva" --company "AgroVale Ltda" --email joao@agrovale.com.br \
  --locale pt-BR --timezone America/Sao_Paulo --country BR --industry agrochemicals
q customer add --id C-RU-001 --name "Ольга Смирнова" --company "ООО Техснаб" --email olga@tehsnab.ru \
  --locale ru --timezone Europe/Moscow --country RU --consent
q customer add --id C-DE-001 --name "Jonas Becker" --company "Becker Haustechnik GmbH" --email j.becker@becker-ht.de \
  --locale de --timezone Europe/Berlin --country DE --consent
q customer add --id C-NG-001 --name "Chinedu Okafor" --company "Lagos Water Works" --email chinedu@lagoswater.ng \
  --locale en-NG --timezone Africa/Lagos --country NG --industry water
q customer add --id C-FR-001 --name "Camille Martin" --company "Martin Irrigation SARL" --email camille@martin-irrigation.fr \
  --locale fr --timezone Europe/Paris --country FR --consent
q customer add --id C-CN-001 --name "李娜" --company "深圳水泵贸易" --email lina@szpump.cn \
  --locale zh-Hans --timezone Asia/Shanghai --country CN

# Mexico: two orders months apart; the second is delivered and has a damage complaint.
q order add --id SO-1001 --customer C-MX-001 --line PUMP-200:4:129900 --line SEAL-KIT:10:4500 --at 2026-05-10T16:00:00Z
q order complete SO-1001 --at 2026-06-20T16:00:00Z
q order add --id SO-1042 --customer C-MX-001 --line PUMP-200:2:129900 --at 2026-10-20T16:00:00Z
q shipment dispatch --order SO-1042 --id SH-1042-1 --carrier Maersk --tracking MAEU7712034 \
  --tracking-url "https://www.maersk.com/tracking/MAEU7712034" --eta 2026-11-18 --mode sea --port Manzanillo --at 2026-10-24T08:00:00Z
q shipment event SH-1042-1 in-transit --location "Port of Shanghai" --at 2026-10-26T02:00:00Z
q shipment event SH-1042-1 at-customs --location Manzanillo --at 2026-11-17T15:00:00Z
q shipment event SH-1042-1 cleared --at 2026-11-19T18:00:00Z
q shipment event SH-1042-1 delivered --signed-by "L. Hernández" --at 2026-11-21T17:30:00Z
q complaint open --order SO-1042 --id K-2001 --category damage \
  --text "Una de las bombas llegó con la carcasa agrietada y falta el manual en español." --at 2026-11-23T09:20:00Z

# Saudi Arabia: by air, delayed.
q order add --id SO-1050 --customer C-SA-001 --line VALVE-50:200:1850 --currency USD --at 2026-11-10T07:00:00Z
q shipment dispatch --order SO-1050 --id SH-1050-1 --carrier "Emirates SkyCargo" --tracking 176-55012345 --eta 2026-11-20 --mode air \
  --port "King Khalid Intl (RUH)" --at 2026-11-14T06:00:00Z
q shipment event SH-1050-1 delayed --eta 2026-11-26 --cause "missed connection in Dubai" --remedy "priority booking on the next flight" --at 2026-11-19T09:00:00Z

# Brazil: at sea, in transit.
q order add --id SO-1061 --customer C-BR-001 --line PUMP-300:6:149900 --currency USD --at 2026-11-02T13:00:00Z
q shipment dispatch --order SO-1061 --id SH-1061-1 --carrier "MSC" --tracking MSCU4455120 --eta 2026-12-18 --mode sea --port Santos --at 2026-11-08T04:00:00Z
q shipment event SH-1061-1 in-transit --location "Port of Singapore" --at 2026-11-20T11:00:00Z

# Russia: held at customs.
q order add --id SO-1070 --customer C-RU-001 --line SEAL-KIT:40:4200 --currency EUR --at 2026-10-28T08:00:00Z
q shipment dispatch --order SO-1070 --id SH-1070-1 --carrier "RZD Logistics" --tracking RZD-99120 --eta 2026-11-25 --mode rail --at 2026-11-01T08:00:00Z
q shipment event SH-1070-1 held --reason "certificate of conformity (EAC) missing" --location "Zabaikalsk" --at 2026-11-22T06:00:00Z

# Germany: delivered and completed, survey and review in.
q order add --id SO-1080 --customer C-DE-001 --line VALVE-50:500:1700 --currency EUR --at 2026-09-01T08:00:00Z
q shipment dispatch --order SO-1080 --id SH-1080-1 --carrier DHL --tracking 1Z999AA10123456784 --eta 2026-09-15 --mode express --at 2026-09-03T08:00:00Z
q shipment event SH-1080-1 delivered --signed-by "J. Becker" --at 2026-09-12T10:00:00Z
q order complete SO-1080 --at 2026-09-20T10:00:00Z
q survey record --order SO-1080 --score 9 --reason "Customs paperwork took long" --liked quality --intent yes --at 2026-09-25T10:00:00Z
q review record --order SO-1080 --positive --text "Solid valves, well packed." --at 2026-09-26T10:00:00Z

# Nigeria, France, China: newly placed or just dispatched.
q order add --id SO-1090 --customer C-NG-001 --line PUMP-200:1:129900 --at 2026-11-20T09:00:00Z
q shipment dispatch --order SO-1090 --id SH-1090-1 --carrier "DHL Express" --tracking 4471203398 --eta 2026-11-28 --mode express --port Lagos --at 2026-11-23T08:30:00Z
q order add --id SO-1100 --customer C-FR-001 --line VALVE-50:80:1800 --currency EUR --at 2026-11-22T10:00:00Z
q order add --id SO-1110 --customer C-CN-001 --line SEAL-KIT:25:4000 --currency CNY --at 2026-11-21T02:00:00Z

echo "Demo database: demo/aftersales.db (now = $AFTERSALES_NOW)"
"$A" status

echo
echo "Mail planned for the next 7 days (aftersales preview):"
"$A" preview --days 7
echo
echo "Sending what is due now with the file transport (aftersales run):"
rm -rf demo/outbox-files
AFTERSALES_TRANSPORT_DIR=demo/outbox-files "$A" run --transport file
echo "Messages written to demo/outbox-files/; try: $A outbox list --db demo/aftersales.db --now $AFTERSALES_NOW"
